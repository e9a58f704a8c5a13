package memguard

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
		err  bool
	}{
		{in: "1073741824", want: 1 << 30},
		{in: "512MiB", want: 512 << 20},
		{in: "2gib", want: 2 << 30},
		{in: "8 GiB", want: 8 << 30},
		{in: "64KiB", want: 64 << 10},
		{in: "1TiB", want: 1 << 40},
		{in: "1.5GiB", err: true},
		{in: "-1", err: true},
		{in: "GiB", err: true},
		{in: "99999999999TiB", err: true},
		{in: "1GB", err: true}, // decimal units are not accepted: say the binary one
	} {
		got, err := ParseSize(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestLimit(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == EnvVar {
				return v
			}
			return ""
		}
	}
	if n, err := Limit(env("off")); n != 0 || err != nil {
		t.Errorf("off: %d, %v; want 0, nil", n, err)
	}
	if n, err := Limit(env("3GiB")); n != 3<<30 || err != nil {
		t.Errorf("3GiB: %d, %v", n, err)
	}
	if _, err := Limit(env("1MiB")); err == nil || !strings.Contains(err.Error(), "at least 64MiB") {
		t.Errorf("1MiB: error %v, want one asking for at least 64MiB", err)
	}
	if _, err := Limit(env("lots")); err == nil || !strings.Contains(err.Error(), EnvVar) {
		t.Errorf("lots: error %v, want one naming %s", err, EnvVar)
	}
	if n, err := Limit(env("")); err != nil || n < minDefault {
		t.Errorf("default: %d, %v; want at least %d", n, err, minDefault)
	}
}

// TestStartFires allocates past a small limit and waits for the handler.
func TestStartFires(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fired := make(chan uint64, 2)
	Start(ctx, 64<<20, time.Millisecond, func(used uint64) { fired <- used })
	var hold [][]byte
	deadline := time.After(20 * time.Second)
	for {
		select {
		case used := <-fired:
			if used <= 64<<20 {
				t.Fatalf("handler called with %d bytes, not over the limit", used)
			}
			select {
			case <-fired:
				t.Fatal("handler called twice")
			case <-time.After(20 * time.Millisecond):
			}
			_ = hold
			return
		case <-deadline:
			t.Fatal("handler not called after allocating past the limit")
		default:
			if len(hold) < 256 { // at most 256 MiB
				b := make([]byte, 1<<20)
				for i := range b {
					b[i] = byte(i)
				}
				hold = append(hold, b)
			} else {
				time.Sleep(time.Millisecond)
			}
		}
	}
}

// TestStartQuiet stays under a large limit: the handler never runs, and
// ending ctx stops the sampling.
func TestStartQuiet(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	called := make(chan struct{}, 1)
	Start(ctx, 1<<40, time.Millisecond, func(uint64) { called <- struct{}{} })
	time.Sleep(30 * time.Millisecond)
	cancel()
	select {
	case <-called:
		t.Fatal("handler called under the limit")
	default:
	}
	Start(context.Background(), 0, time.Millisecond, func(uint64) { t.Error("a zero limit started a guard") })
	time.Sleep(10 * time.Millisecond)
}
