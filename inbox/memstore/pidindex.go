package memstore

import "github.com/parleyhq/parley/status"

// pidIndex finds deliveries by provider ID: the lookup every status report
// makes, in a store of hundreds of thousands of deliveries where each read
// of a place not in the processor's caches waits on memory. It is an open
// addressing table (linear probing) whose slot holds the key's hash, the
// key (the record's own provider ID string) and the record: a lookup reads
// one slot, then the key's bytes and the record at once (lookup), where a
// map of string keys reads its group, its key's bytes and only then the
// record. Call put and remove under the write lock, get and lookup under
// the read lock at least.
type pidIndex struct {
	slots []pidSlot // a power of two long; nil until the first put
	live  int       // slots holding a record
	used  int       // slots holding a record or once held one (tombstones)
	hash  func(string) uint64
}

// pidSlot is a slot of a pidIndex.
type pidSlot struct {
	hash uint64 // of key, its lowest bit set; 0: never used
	key  string
	rec  *delRec // nil: the record was removed (a tombstone when hash is not 0)
}

// hashOf returns the hash of k as slots hold it: never 0.
func (x *pidIndex) hashOf(k string) uint64 { return x.hash(k) | 1 }

// get returns the record of provider ID k.
func (x *pidIndex) get(k string) (*delRec, bool) {
	r, _ := x.lookup(k, x.hashOf(k))
	return r, r != nil
}

// lookup returns the record of provider ID k, whose hash (hashOf) is h,
// nil for none, and its current status, read before the key's bytes are
// compared: the two reads then wait on memory together, not one after the
// other. hashOf reads only k: a caller hashes before taking the lock.
func (x *pidIndex) lookup(k string, h uint64) (*delRec, status.Status) {
	if x.live == 0 {
		return nil, 0
	}
	mask := uint64(len(x.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		e := &x.slots[i]
		if e.hash == h && e.rec != nil {
			cur := e.rec.current
			if e.key == k {
				return e.rec, cur
			}
		}
		if e.hash == 0 {
			return nil, 0
		}
	}
}

// put adds r under its provider ID, which no record has. The table grows
// when seven slots in eight are used: at three in four, a store of 100,000
// deliveries had just grown to 262,144 slots (8 MiB, 84 bytes a delivery,
// over the memory a broadcast may keep per delivery); at seven in eight it
// keeps 131,072, and a lookup still reads about three slots, side by side.
func (x *pidIndex) put(r *delRec) {
	if (x.used+1)*8 > len(x.slots)*7 {
		x.resize()
	}
	h := x.hashOf(r.providerID)
	mask := uint64(len(x.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		e := &x.slots[i]
		if e.rec != nil {
			continue
		}
		if e.hash == 0 {
			x.used++
		}
		*e = pidSlot{hash: h, key: r.providerID, rec: r}
		x.live++
		return
	}
}

// remove takes r out from under provider ID k, which r was put under (its
// provider ID may have changed since); nothing when r is not there under k.
func (x *pidIndex) remove(k string, r *delRec) {
	if x.live == 0 {
		return
	}
	h := x.hashOf(k)
	mask := uint64(len(x.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		e := &x.slots[i]
		if e.rec == r && e.key == k {
			*e = pidSlot{hash: h} // a tombstone: later keys may have probed past it
			x.live--
			return
		}
		if e.hash == 0 {
			return
		}
	}
}

// resize moves the records to a table where they fill at most half of the
// slots, leaving the tombstones behind.
func (x *pidIndex) resize() {
	n := 16
	for n/2 <= x.live+1 {
		n *= 2
	}
	old := x.slots
	x.slots, x.live, x.used = make([]pidSlot, n), 0, 0
	mask := uint64(n - 1)
	for _, e := range old {
		if e.rec == nil {
			continue
		}
		i := e.hash & mask
		for x.slots[i].hash != 0 {
			i = (i + 1) & mask
		}
		x.slots[i] = e
		x.live++
		x.used++
	}
}
