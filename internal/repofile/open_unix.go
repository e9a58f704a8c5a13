//go:build unix

package repofile

import (
	"os"
	"syscall"
)

// openNonblocking opens name for reading without waiting for a writer when
// it is a FIFO; the caller checks the type before reading.
func openNonblocking(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
