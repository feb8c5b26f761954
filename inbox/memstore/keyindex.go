package memstore

import "hash/maphash"

// keyIndex finds records of one type by a string key they hold (a thread's
// or message's ID, a provider ID) through a 64-bit hash of the key. It is
// an open addressing table (linear probing) whose slots hold the hash and
// the record, not the key: a table that grows moves its slots without
// reading each key where it lives, at a random place in the store's arena
// (a cache miss per key, millions of them while a large store fills). A
// key whose hash another key has is kept all the same, in a slot further
// on: a lookup compares the key of each record whose hash is its own.
//
// Its slots are 16 bytes, four to a cache line. A lookup of a key that is
// not there (the check that a new message's ID and provider ID are free)
// reads the slot its hash starts at and the ones after it up to a free
// one: most often one cache line. The place of that line is known from the
// hash alone, so a writer can read it early (warm), for the processor to
// wait on it together with other reads. Records are never removed. Call
// put under the write lock, get under the read lock at least.
type keyIndex[T any] struct {
	slots []keySlot[T] // a power of two long; nil until the first put
	n     int          // records
	key   func(*T) string
	hash  func(string) uint64
}

// keySlot is a slot of a keyIndex.
type keySlot[T any] struct {
	hash uint64 // of the record's key, its lowest bit set; 0: free
	rec  *T
}

func newKeyIndex[T any](key func(*T) string, hash func(string) uint64) keyIndex[T] {
	return keyIndex[T]{key: key, hash: hash}
}

// newHash returns a hash of strings with a seed of its own.
func newHash() func(string) uint64 {
	seed := maphash.MakeSeed()
	return func(s string) uint64 { return maphash.String(seed, s) }
}

// hashOf returns the hash of k as slots hold it: odd, never 0.
func (x *keyIndex[T]) hashOf(k string) uint64 { return x.hash(k) | 1 }

// get returns the record of key k.
func (x *keyIndex[T]) get(k string) (*T, bool) {
	r := x.lookup(k, x.hashOf(k))
	return r, r != nil
}

// at returns the record of key k, nil for none.
func (x *keyIndex[T]) at(k string) *T {
	return x.lookup(k, x.hashOf(k))
}

// lookup returns the record of key k, whose hash (hashOf) is h, nil for
// none.
func (x *keyIndex[T]) lookup(k string, h uint64) *T {
	if x.n == 0 {
		return nil
	}
	mask := uint64(len(x.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		e := &x.slots[i]
		if e.hash == h && x.key(e.rec) == k {
			return e.rec
		}
		if e.hash == 0 {
			return nil
		}
	}
}

// warm reads the first slot a lookup of hash h (hashOf) reads and returns
// what it holds, for the caller to keep (see keyIndex).
func (x *keyIndex[T]) warm(h uint64) uint64 {
	if x.n == 0 {
		return 0
	}
	return x.slots[h&uint64(len(x.slots)-1)].hash
}

// put adds r under its key, which no record has. The table doubles when
// three slots in four are taken: a lookup of a key that is not there
// reads two or three slots, side by side, at the loads a table has most
// of the time, and about nine just before it doubles.
func (x *keyIndex[T]) put(r *T) {
	x.putHashed(r, x.hashOf(x.key(r)))
}

// putHashed is put of a record whose key's hash (hashOf) is h.
func (x *keyIndex[T]) putHashed(r *T, h uint64) {
	if (x.n+1)*4 > len(x.slots)*3 {
		x.grow()
	}
	x.place(keySlot[T]{hash: h, rec: r})
	x.n++
}

// place puts e in the first free slot from its hash's.
func (x *keyIndex[T]) place(e keySlot[T]) {
	mask := uint64(len(x.slots) - 1)
	i := e.hash & mask
	for x.slots[i].hash != 0 {
		i = (i + 1) & mask
	}
	x.slots[i] = e
}

// grow moves the records to a table twice as long (16 slots at first).
func (x *keyIndex[T]) grow() {
	old := x.slots
	x.slots = make([]keySlot[T], max(16, 2*len(old)))
	for _, e := range old {
		if e.hash != 0 {
			x.place(e)
		}
	}
}
