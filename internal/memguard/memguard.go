// Package memguard ends a process that is about to run out of memory with
// a clear message instead of the runtime's fatal error.
//
// The repository tmci reads is untrusted (docs/architecture.md, "Trust
// boundary"), and HCL can build values whose size no static limit bounds:
// three nested for expressions over range(1024) make a billion elements
// without a single function call that could refuse. A Guard samples the
// process's memory while it runs and calls its handler once when use
// passes the limit, early enough for the handler to print and exit.
package memguard

import (
	"context"
	"fmt"
	"os"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"
)

// EnvVar names the environment variable that sets the limit: a size such
// as 2GiB, 512MiB or 1073741824, or "off".
const EnvVar = "TMCI_MEMORY_LIMIT"

// minDefault is the least default limit, whatever the machine reports.
const minDefault = 1 << 30

// Limit returns the limit that getenv's EnvVar sets, or the default: half
// of the memory the process may use (its cgroup's limit or the machine's
// memory), at least 1 GiB. Zero means no limit ("off").
func Limit(getenv func(string) string) (uint64, error) {
	v := strings.TrimSpace(getenv(EnvVar))
	switch {
	case v == "":
		return defaultLimit(), nil
	case strings.EqualFold(v, "off"):
		return 0, nil
	}
	n, err := ParseSize(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: %w", EnvVar, v, err)
	}
	if n < 64<<20 {
		return 0, fmt.Errorf("%s=%q: use at least 64MiB, or off", EnvVar, v)
	}
	return n, nil
}

// ParseSize reads a byte count with an optional binary suffix: KiB, MiB,
// GiB or TiB (case-insensitive).
func ParseSize(s string) (uint64, error) {
	units := []struct {
		suffix string
		shift  uint
	}{{"kib", 10}, {"mib", 20}, {"gib", 30}, {"tib", 40}}
	lower := strings.ToLower(s)
	shift := uint(0)
	for _, u := range units {
		if strings.HasSuffix(lower, u.suffix) {
			lower, shift = strings.TrimSpace(strings.TrimSuffix(lower, u.suffix)), u.shift
			break
		}
	}
	n, err := strconv.ParseUint(lower, 10, 64)
	if err != nil || n > (1<<63)>>shift {
		return 0, fmt.Errorf("not a size: write bytes, or a number followed by KiB, MiB, GiB or TiB")
	}
	return n << shift, nil
}

// defaultLimit is half of the smaller of the cgroup's memory limit and
// the machine's memory, at least minDefault; it is minDefault when
// neither can be read.
func defaultLimit() uint64 {
	avail := machineMemory()
	if c := cgroupMemory(); c > 0 && (avail == 0 || c < avail) {
		avail = c
	}
	return max(avail/2, minDefault)
}

// machineMemory reads MemTotal from /proc/meminfo; 0 when unknown.
func machineMemory() uint64 {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// cgroupMemory reads the cgroup v2 memory limit; 0 when there is none.
func cgroupMemory() uint64 {
	data, err := os.ReadFile("/sys/fs/cgroup/memory.max")
	if err != nil {
		return 0
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
	if err != nil { // "max"
		return 0
	}
	return n
}

// Start samples the process's memory every interval until ctx ends and
// calls exceeded, once, from its own goroutine, with the bytes in use when
// they first pass limit. It leaves the runtime's soft memory limit alone:
// near it the collector runs nearly without pause, which only delays the
// guard (22 s instead of 4 s to stop at 512 MiB, measured). A zero limit
// starts nothing. Start is meant for main: the handler is expected
// to end the process.
func Start(ctx context.Context, limit uint64, interval time.Duration, exceeded func(used uint64)) {
	if limit == 0 {
		return
	}
	samples := []metrics.Sample{
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
	}
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			metrics.Read(samples)
			used := samples[0].Value.Uint64() - samples[1].Value.Uint64()
			if used > limit {
				exceeded(used)
				return
			}
		}
	}()
}
