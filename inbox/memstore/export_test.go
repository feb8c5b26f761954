package memstore

import "github.com/parleyhq/parley/inbox/store"

// SetMaxListed sets the number of search candidates beyond which a search
// walks the list index, so that tests exercise both ways.
func SetMaxListed(s *Store, n int) { s.maxListed = n }

// SetSlotPostings sets the number of postings from which a message word
// gets a slot, so that tests exercise slotted and unslotted words.
func SetSlotPostings(s *Store, n int) { s.slotPostings = n }

// SetCollectOnly turns the word slot walks of searches off (on false, back
// on): every match is collected from the indexes and postings, so that
// benchmarks compare the walks with collecting in the same run.
func SetCollectOnly(s *Store, on bool) { s.collectOnly = on }

// SetWalkMin sets the least work a search's list walk may do before it
// gives up and collects, so that tests exercise both.
func SetWalkMin(s *Store, n int) { s.walkMin = n }

// UseBTreeLists puts the B-tree list index the store had before in place
// of its list index, so that benchmarks measure both in the same run. The
// store must be empty.
func UseBTreeLists(s *Store) {
	if len(s.threadNum) > 0 {
		panic("memstore: UseBTreeLists on a store with threads")
	}
	s.baseline = newBTreeLists()
}

// ListMatch is the reference semantics of a ThreadQuery's filters (listMatch),
// shared by the external tests' reference of a search.
func ListMatch(th *store.Thread, q *store.ThreadQuery) bool { return listMatch(th, q) }

// CollideKeys gives every key of the store's ID and provider-ID indexes
// (keyIndex, pidIndex) and of its live thread index (strIndex) one hash,
// so that tests exercise the keys told apart by their string. Like New, it
// gives every index the same hash function: a write hashes a key once for
// all of them. The store must be empty.
func CollideKeys(s *Store) {
	same := func(string) uint64 { return 42 }
	s.threads.hash, s.msgs.hash, s.msgByPID.hash, s.outByPID.hash = same, same, same, same
	s.dels.hash, s.delByPID.hash = same, same
	for k := range s.live {
		s.live[k].hash = same
	}
}
