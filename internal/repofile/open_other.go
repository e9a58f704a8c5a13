//go:build !unix

package repofile

import "os"

// openNonblocking opens name for reading; outside Unix there are no FIFOs
// in a checkout to block on.
func openNonblocking(name string) (*os.File, error) {
	return os.Open(name)
}
