// Package memstore is the in-memory implementation of the inbox storage
// contract (package inbox/store): the embedded default of Parley, for tests,
// examples, demos and single-process hosts that accept losing their inbox
// when the process ends. It keeps nothing across restarts.
//
// The behaviour contract, whose rule IDs (T, M, C, R, S) the
// documentation and tests cite, is
// https://github.com/parleyhq/parley/blob/main/docs/spec.md.
//
// Every query is answered from an index kept in step with every write, so
// that nothing scans all threads: one ordered list per combination of the
// T11 and T12 filters for the thread list (T3), kept as pointer-free blocks
// of (time, thread number) entries, oldest first, so that a message written
// now appends to the last block of each of its thread's lists and leaves
// the thread's old entries stale, for a bounded sweep to drop later;
// a B+ tree of its own (wordTree) of subject words and phone digit forms
// for the name, email and phone search, whose nodes keep their entries'
// first eight bytes apart so that a descent reads few cache lines (the
// generic B-trees of github.com/google/btree, which keep the ordered
// indexes of deliveries, cannot lay a node out so), an inverted index
// from message words to messages for the keyword search (T13), incremental
// attention counters (T15), and ordered indexes of scheduled deliveries for the
// dispatcher (C8, C15). Searches tokenise exactly as inbox/store/textindex
// says, which is what every Parley store does. Threads, messages and
// inbound provider IDs are found through open-addressing tables of
// (64-bit hash, record) slots, which grow without reading the IDs again;
// deliveries by provider ID, live threads by subject and the Directory's
// contacts by address through tables whose slots hold the hash, the key
// and the record, so that a lookup reads them at once.
//
// A search that matches many threads walks the lists and tests each
// thread, so that it stops after one page. The subject word index keeps
// words and the other subject entries (e-mail addresses, hyphenated names)
// apart, so that a name is looked up among words only. The 256 message
// words that first reach 4,096 postings get a slot each; every message
// keeps one bit per slot of its words, and every slot a bitset of the
// threads with a message holding its word, set by the write that adds the
// message. A search for such words tests each entry of the walk against
// the slot's bitset (for several words, against the intersection of
// theirs) before it reads the thread, and then each message of a thread
// that passes against the message's bits, so that its cost follows the
// page it fills, not the number of threads holding the words, and nothing
// is built by the first search of a word. A walk that visits more threads than collecting the matches from
// the postings would cost gives up and collects them.
//
// # Concurrency
//
// A Store is safe for concurrent use. Reads run in parallel under a shared
// lock; each write takes the lock exclusively, checks everything first and
// only then changes the store, so it is atomic and a failed write changes
// nothing. Values are copied in and out: a Store shares no memory with its
// callers. Message times are kept as Unix nanoseconds with their location:
// they come back with the same instant and location, without the
// monotonic clock reading that time.Now attaches (compare times with
// Equal, as with any store).
//
// # Errors
//
// Methods return errors matching store.ErrNotFound, store.ErrConflict and
// store.ErrDuplicate with errors.Is, as the contract says; ErrInvalid for a
// value the contract does not allow (a message of another thread, a changed
// subject, a Limit below 1); and the context's error, unwrapped, when the
// context has ended before the call. Messages start with "memstore:".
package memstore
