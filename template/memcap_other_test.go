//go:build !linux

package template

import "errors"

func capAddressSpace(uint64) error { return errors.ErrUnsupported }

func peakRSS() uint64 { return 0 }
