package memstore

import "hash/maphash"

// keyIndex finds records of one type by a string key they hold (a thread's
// or message's ID, a provider ID) through a 64-bit hash of the key: its map
// holds the hash and the record, not the key. A map of string keys that
// grows hashes every key again, reading each where it lives, at a random
// place in the store's arena (a cache miss per key, millions of them while
// a large store fills); this map's keys are the hashes themselves, and its
// entries are 16 bytes instead of 24. A key whose hash an other key holds
// already (about one pair among 10^12 at a million keys) is kept by its
// string in more. Records are never removed. Call put under the write
// lock.
type keyIndex[T any] struct {
	byHash map[uint64]*T
	more   map[string]*T // keys whose hash an other key has
	key    func(*T) string
	hash   func(string) uint64
}

func newKeyIndex[T any](key func(*T) string, hash func(string) uint64) keyIndex[T] {
	return keyIndex[T]{byHash: make(map[uint64]*T), key: key, hash: hash}
}

// newHash returns a hash of strings with a seed of its own.
func newHash() func(string) uint64 {
	seed := maphash.MakeSeed()
	return func(s string) uint64 { return maphash.String(seed, s) }
}

// get returns the record of key k.
func (x *keyIndex[T]) get(k string) (*T, bool) {
	if r, ok := x.byHash[x.hash(k)]; ok && x.key(r) == k {
		return r, true
	}
	if len(x.more) == 0 {
		return nil, false
	}
	r, ok := x.more[k]
	return r, ok
}

// at returns the record of key k, nil for none.
func (x *keyIndex[T]) at(k string) *T {
	r, _ := x.get(k)
	return r
}

// put adds r under its key, which no record has.
func (x *keyIndex[T]) put(r *T) {
	k := x.key(r)
	h := x.hash(k)
	if _, taken := x.byHash[h]; taken {
		if x.more == nil {
			x.more = make(map[string]*T)
		}
		x.more[k] = r
		return
	}
	x.byHash[h] = r
}
