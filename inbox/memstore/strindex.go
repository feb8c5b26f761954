package memstore

// strIndex finds values by a string key through an open addressing table
// (linear probing) whose slot holds the key's hash, the key and the value.
// A lookup that finds its key reads its slot, then the key's bytes and
// what the value points to at once (the processor reads past the compare
// it predicts equal); a Go map of string keys reads its group's control
// word, its slot, the key's bytes and only then the value, each read
// waiting on the one before, each a cache miss in a table of a million
// keys. A lookup of a key that is not there reads the slots from its
// hash's up to a free one; the table doubles when fill eighths of its
// slots are taken (three in four unless fill says otherwise). Slots are
// never shrunk; a removed key leaves a tombstone that the next growth
// drops.
// The zero strIndex is empty but needs its hash set. Call set and remove
// under a write lock, get under a read lock at least.
type strIndex[V any] struct {
	slots []strSlot[V] // a power of two long; nil until the first set
	live  int          // slots holding a key
	used  int          // slots holding a key or a tombstone
	hash  func(string) uint64
	fill  int // eighths of the slots taken before the table grows, 1–7; 0: 6
}

// strSlot is a slot of a strIndex.
type strSlot[V any] struct {
	hash uint64 // of key, its lowest bit set; 0: never used; tombHash: removed
	key  string
	val  V
}

// tombHash marks a removed slot: no hashOf is even.
const tombHash = 2

// hashOf returns the hash of k as slots hold it: odd.
func (x *strIndex[V]) hashOf(k string) uint64 { return x.hash(k) | 1 }

// get returns the value of key k.
func (x *strIndex[V]) get(k string) (V, bool) {
	return x.lookup(k, x.hashOf(k))
}

// lookup returns the value of key k, whose hash (hashOf) is h.
func (x *strIndex[V]) lookup(k string, h uint64) (V, bool) {
	if x.live != 0 {
		mask := uint64(len(x.slots) - 1)
		for i := h & mask; ; i = (i + 1) & mask {
			e := &x.slots[i]
			if e.hash == h && e.key == k {
				return e.val, true
			}
			if e.hash == 0 {
				break
			}
		}
	}
	var zero V
	return zero, false
}

// set makes v the value of key k, which the index keeps: the caller must
// not change its bytes (a string never changes).
func (x *strIndex[V]) set(k string, v V) {
	fill := x.fill
	if fill == 0 {
		fill = 6
	}
	if (x.used+1)*8 > len(x.slots)*fill {
		x.resize()
	}
	h := x.hashOf(k)
	mask := uint64(len(x.slots) - 1)
	var free *strSlot[V] // the first tombstone on the way
	for i := h & mask; ; i = (i + 1) & mask {
		e := &x.slots[i]
		switch {
		case e.hash == h && e.key == k:
			e.key, e.val = k, v
			return
		case e.hash == tombHash && free == nil:
			free = e
		case e.hash == 0:
			if free == nil {
				free = e
				x.used++
			}
			*free = strSlot[V]{hash: h, key: k, val: v}
			x.live++
			return
		}
	}
}

// remove takes key k out of the index when keep, given its value, says
// no; it reports whether it did.
func (x *strIndex[V]) remove(k string, keep func(V) bool) bool {
	if x.live == 0 {
		return false
	}
	h := x.hashOf(k)
	mask := uint64(len(x.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		e := &x.slots[i]
		if e.hash == h && e.key == k {
			if keep != nil && keep(e.val) {
				return false
			}
			*e = strSlot[V]{hash: tombHash} // later keys may have probed past it
			x.live--
			return true
		}
		if e.hash == 0 {
			return false
		}
	}
}

// resize moves the keys to a table where they fill at most half of the
// slots, leaving the tombstones behind.
func (x *strIndex[V]) resize() {
	n := 16
	for n/2 <= x.live+1 {
		n *= 2
	}
	old := x.slots
	x.slots, x.live, x.used = make([]strSlot[V], n), 0, 0
	mask := uint64(n - 1)
	for _, e := range old {
		if e.hash&1 == 0 {
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
