package memstore

import "github.com/parleyhq/parley/recipient"

// addrIndex finds a contact by one of its addresses, for the Directory. It
// is a strIndex (open addressing, linear probing, tombstones, grown at
// three quarters full) whose 64-byte slot holds, beside the address's hash
// and the contact's record, the address and the contact's ID themselves
// when they fit in it together (addrInline bytes: a phone number and a
// short ID do), else one copy of both, side by side, in the directory's
// arena.
//
// On the path of every inbound message the inbox looks the sender's
// address up, then hashes the contact's ID to find its live thread. With
// the strings in the slot, the lookup waits on one read from memory, the
// slot's; a strIndex's slot points at the key it compares and the ID the
// inbox hashes next, a second read that waits on the first, each a cache
// miss in a directory of a million contacts (receive at 1M threads: the
// lookup's 440–570 ns → 290–330 ns). An ID held in its slot is copied out
// when it is returned, an allocation of its length: the slot changes when
// an address moves to another contact, a string never does.
//
// It repeats strIndex's probing rather than sharing it through a type
// parameter: Go compiles calls of a type parameter's methods as indirect
// calls through a dictionary, never inlined, and this lookup is on the
// path of every inbound message.
//
// The zero addrIndex is empty but needs its hash set. Call set and remove
// under a write lock, get under a read lock at least.
type addrIndex struct {
	slots []addrSlot // a power of two long; nil until the first set
	live  int        // slots holding an address
	used  int        // slots holding an address or a tombstone
	hash  func(string) uint64
}

// addrInline is the room of a slot for an address and an ID together.
const addrInline = 27

// addrSlot is a slot of an addrIndex, 64 bytes long.
type addrSlot struct {
	hash uint64 // of the address, its lowest bit set; 0: never used; tombHash: removed
	c    *recipient.Contact
	// ext is the address followed by the ID when they do not fit in the
	// slot; "" when they are in it.
	ext string
	n   uint32           // the address's length
	m   uint8            // the ID's length, when in the slot
	in  [addrInline]byte // the address, then the ID, when they fit
}

// is reports whether the slot's address is k.
func (e *addrSlot) is(k string) bool {
	if e.ext != "" {
		return e.ext[:e.n] == k
	}
	return int(e.n) == len(k) && string(e.in[:e.n]) == k
}

// id returns the ID of the slot's contact.
func (e *addrSlot) id() string {
	if e.ext != "" {
		return e.ext[e.n:]
	}
	return string(e.in[e.n : e.n+uint32(e.m)])
}

// fill makes e the slot of address k, whose hash (hashOf) is h, leading to
// contact c whose ID is id.
func (e *addrSlot) fill(h uint64, k, id string, c *recipient.Contact, arena *strArena) {
	*e = addrSlot{hash: h, c: c, n: uint32(len(k))}
	if len(k)+len(id) <= addrInline {
		copy(e.in[:], k)
		copy(e.in[len(k):], id)
		e.m = uint8(len(id))
		return
	}
	e.ext = arena.keepJoin(k, id)
}

// hashOf returns the hash of k as slots hold it: odd.
func (x *addrIndex) hashOf(k string) uint64 { return x.hash(k) | 1 }

// get returns the slot of address k, nil when k is not there. The slot is
// valid until the next set or remove.
func (x *addrIndex) get(k string) *addrSlot {
	if x.live == 0 {
		return nil
	}
	h := x.hashOf(k)
	mask := uint64(len(x.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		e := &x.slots[i]
		if e.hash == h && e.is(k) {
			return e
		}
		if e.hash == 0 {
			return nil
		}
	}
}

// set makes address k lead to contact c, whose ID is id; a copy of both
// goes to arena when they do not fit in the slot.
func (x *addrIndex) set(k, id string, c *recipient.Contact, arena *strArena) {
	if (x.used+1)*4 > len(x.slots)*3 {
		x.resize()
	}
	h := x.hashOf(k)
	mask := uint64(len(x.slots) - 1)
	var free *addrSlot // the first tombstone on the way
	for i := h & mask; ; i = (i + 1) & mask {
		e := &x.slots[i]
		switch {
		case e.hash == h && e.is(k):
			e.fill(h, k, id, c, arena)
			return
		case e.hash == tombHash && free == nil:
			free = e
		case e.hash == 0:
			if free == nil {
				free = e
				x.used++
			}
			free.fill(h, k, id, c, arena)
			x.live++
			return
		}
	}
}

// remove takes address k out of the index when it leads to contact c (not
// when another contact took it since); it reports whether it did.
func (x *addrIndex) remove(k string, c *recipient.Contact) bool {
	e := x.get(k)
	if e == nil || e.c != c {
		return false
	}
	*e = addrSlot{hash: tombHash} // later addresses may have probed past it
	x.live--
	return true
}

// resize moves the addresses to a table where they fill at most half of
// the slots, leaving the tombstones behind.
func (x *addrIndex) resize() {
	n := 16
	for n/2 <= x.live+1 {
		n *= 2
	}
	old := x.slots
	x.slots, x.live, x.used = make([]addrSlot, n), 0, 0
	mask := uint64(n - 1)
	for i := range old {
		e := &old[i]
		if e.hash&1 == 0 {
			continue
		}
		j := e.hash & mask
		for x.slots[j].hash != 0 {
			j = (j + 1) & mask
		}
		x.slots[j] = *e
		x.live++
		x.used++
	}
}
