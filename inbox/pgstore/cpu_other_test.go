//go:build !unix

package pgstore_test

import "time"

// processCPU returns -1: this system's processor time is not read.
func processCPU() time.Duration { return -1 }
