package memstore

import (
	"math"
	"time"
)

// zeroStamp is the stamp of the zero time.
const zeroStamp = math.MinInt64

// locTable numbers the locations of the times a store keeps, so that a time
// is kept as Unix nanoseconds and a one-byte location (a stamp) instead of
// a 24-byte time.Time. Location 0 is UTC. A stamp keeps the instant and the
// location of a time but not its monotonic clock reading, which means
// nothing outside the process that read the clock.
type locTable struct {
	locs []*time.Location // location i+1
}

// encode returns the stamp of t; false when t is outside the range of Unix
// nanoseconds or its location does not fit in the table, and must be kept
// whole. It adds t's location to the table: call it only under the write
// lock.
func (lt *locTable) encode(t time.Time) (ns int64, loc uint8, ok bool) {
	l := t.Location()
	if t.IsZero() {
		return zeroStamp, 0, l == time.UTC
	}
	if !t.After(minNano) || t.After(maxNano) {
		return 0, 0, false
	}
	if l == time.UTC {
		return t.UnixNano(), 0, true
	}
	for i, have := range lt.locs {
		if have == l {
			return t.UnixNano(), uint8(i + 1), true
		}
	}
	if len(lt.locs) == math.MaxUint8 {
		return 0, 0, false
	}
	lt.locs = append(lt.locs, l)
	return t.UnixNano(), uint8(len(lt.locs)), true
}

// decode returns the time of a stamp.
func (lt *locTable) decode(ns int64, loc uint8) time.Time {
	if ns == zeroStamp {
		return time.Time{}
	}
	t := time.Unix(0, ns)
	if loc == 0 {
		return t.UTC()
	}
	return t.In(lt.locs[loc-1])
}
