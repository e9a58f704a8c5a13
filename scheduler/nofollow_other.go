//go:build !unix

package scheduler

const noFollow = 0
