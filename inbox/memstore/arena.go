package memstore

import "strings"

// strArena keeps copies of the strings the store holds for as long as the
// store (message and delivery IDs, texts, provider IDs: never deleted)
// side by side in large chunks. The collector then marks a few large
// objects instead of millions of small ones: each pointer to a string is
// checked against the state of the chunk's span, which stays in the
// processor's caches, rather than against that of one span among hundreds
// of thousands. It also saves the rounding of each string to its size
// class. Call its methods under the write lock.
type strArena struct {
	b     strings.Builder // the current chunk; earlier ones live on in the strings cut from them
	total int             // bytes kept, which sizes the next chunk
}

// Chunks grow with what the store keeps, from minChunk to maxChunk bytes;
// a string longer than maxArenaString keeps its own allocation.
const (
	minChunk       = 4 << 10
	maxChunk       = 256 << 10
	maxArenaString = 1 << 10
)

// keep returns a copy of str in the arena, or str itself when it is empty
// or long, or a is nil.
func (a *strArena) keep(str string) string {
	n := len(str)
	if a == nil || n == 0 || n > maxArenaString {
		return str
	}
	if a.b.Cap()-a.b.Len() < n {
		// Strings cut from the old chunk stay valid: a Builder only
		// appends, and the new one starts a new buffer.
		a.b = strings.Builder{}
		a.b.Grow(min(maxChunk, max(minChunk, a.total)))
	}
	start := a.b.Len()
	a.b.WriteString(str)
	a.total += n
	return a.b.String()[start:]
}

// keepPair returns copies of a and b in the arena, b right after a (see
// keep): read together, they are read from one place in memory.
func (a *strArena) keepPair(x, y string) (string, string) {
	if a == nil || len(x)+len(y) > maxArenaString {
		return a.keep(x), a.keep(y)
	}
	both := a.keepJoin(x, y)
	return both[:len(x)], both[len(x):]
}

// keepJoin returns a copy of x followed by y: in the arena, unless it is
// longer than maxArenaString or a is nil.
func (a *strArena) keepJoin(x, y string) string {
	n := len(x) + len(y)
	if a == nil || n > maxArenaString {
		return x + y
	}
	if a.b.Cap()-a.b.Len() < n {
		a.b = strings.Builder{}
		a.b.Grow(min(maxChunk, max(minChunk, a.total)))
	}
	start := a.b.Len()
	a.b.WriteString(x)
	a.b.WriteString(y)
	a.total += n
	return a.b.String()[start:]
}

// slab hands out the records of one type that the store keeps for good
// (messages, deliveries: never deleted) from arrays of many, for the same
// reason as strArena: the collector marks a pointer to a record against
// the state of its array's span, one among few. Call its methods under the
// write lock.
type slab[T any] struct {
	free []T // the rest of the current array
	made int // records handed out, which sizes the next array
}

// Arrays grow with the records handed out, from minSlab to maxSlab
// records; more than maxSlab/4 records at once get an array of their own.
const (
	minSlab = 8
	maxSlab = 256
)

// take returns n zero records, side by side.
func (s *slab[T]) take(n int) []T {
	if n > maxSlab/4 {
		return make([]T, n)
	}
	if len(s.free) < n {
		s.free = make([]T, max(n, min(maxSlab, max(minSlab, s.made))))
	}
	out := s.free[:n:n]
	s.free = s.free[n:]
	s.made += n
	return out
}

// one returns a pointer to one zero record.
func (s *slab[T]) one() *T { return &s.take(1)[0] }
