package memstore

import "github.com/parleyhq/parley/status"

// pidIndex finds deliveries by provider ID: the lookup every status report
// makes, in a store of hundreds of thousands of deliveries where each read
// of a place not in the processor's caches waits on memory. It is a
// strIndex whose slot holds the key's hash, the key (the record's own
// provider ID string) and the record: a lookup reads one slot, then the
// key's bytes and the record at once (lookup). It grows when seven slots
// in eight are used: at three in four, a store of 100,000 deliveries had
// just grown to 262,144 slots (8 MiB, 84 bytes a delivery, over the memory
// a broadcast may keep per delivery); at seven in eight it keeps 131,072,
// and a lookup still reads about three slots, side by side. Call put and
// remove under the write lock, get and lookup under the read lock at
// least.
type pidIndex struct{ strIndex[*delRec] }

func newPIDIndex(hash func(string) uint64) pidIndex {
	return pidIndex{strIndex[*delRec]{hash: hash, fill: 7}}
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
		if e.hash == h { // a tombstone's hash is even, h odd
			cur := e.val.current
			if e.key == k {
				return e.val, cur
			}
		}
		if e.hash == 0 {
			return nil, 0
		}
	}
}

// put adds r under its provider ID, which no record has.
func (x *pidIndex) put(r *delRec) { x.set(r.providerID, r) }

// remove takes r out from under provider ID k, which r was put under (its
// provider ID may have changed since); nothing when r is not there under k.
func (x *pidIndex) remove(k string, r *delRec) {
	x.strIndex.remove(k, func(v *delRec) bool { return v != r })
}
