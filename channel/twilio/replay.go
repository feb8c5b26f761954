package twilio

import (
	"crypto/sha256"
	"sync"
	"time"
)

// replayCache remembers the idempotency tokens of webhooks that were
// handled, for a bounded time and in a bounded number. It keeps the SHA-256
// of each token, never the token, so that every entry costs the same
// whatever the size of the token a client sent: the map of hashes and a
// ring of the same entries in the order they were added, which never grows
// past max. A Go map does not give back the room of deleted entries, so the
// map is rebuilt from the ring after every max deletions. It is safe for
// concurrent use.
type replayCache struct {
	mu     sync.Mutex
	window time.Duration
	max    int
	seen   map[[sha256.Size]byte]int64 // token hash → Unix nanoseconds it was added
	ring   []replayEntry               // ring[head], ring[head+1], … (mod len): oldest first
	head   int
	n      int // live entries in ring
	dels   int // deletions from seen since it was built
}

type replayEntry struct {
	key [sha256.Size]byte
	at  int64
}

func newReplayCache(window time.Duration, max int) *replayCache {
	return &replayCache{window: window, max: max, seen: make(map[[sha256.Size]byte]int64)}
}

// contains reports whether token was added within the window before now.
func (c *replayCache) contains(token string, now time.Time) bool {
	key := sha256.Sum256([]byte(token))
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expire(now)
	at, ok := c.seen[key]
	return ok && now.Sub(time.Unix(0, at)) < c.window
}

// add records token as handled at now, forgetting the oldest token when the
// cache is full.
func (c *replayCache) add(token string, now time.Time) {
	key := sha256.Sum256([]byte(token))
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expire(now)
	if _, ok := c.seen[key]; ok {
		return
	}
	if c.n == c.max {
		c.drop()
	}
	if c.n == len(c.ring) {
		c.grow()
	}
	at := now.UnixNano()
	c.seen[key] = at
	c.ring[(c.head+c.n)%len(c.ring)] = replayEntry{key, at}
	c.n++
}

// grow doubles the ring, up to max entries, keeping the live entries in
// order from index 0.
func (c *replayCache) grow() {
	size := min(max(2*len(c.ring), 64), c.max)
	ring := make([]replayEntry, size)
	for i := range c.n {
		ring[i] = c.ring[(c.head+i)%len(c.ring)]
	}
	c.ring, c.head = ring, 0
}

func (c *replayCache) expire(now time.Time) {
	for c.n > 0 && now.Sub(time.Unix(0, c.ring[c.head].at)) >= c.window {
		c.drop()
	}
}

// drop forgets the oldest entry.
func (c *replayCache) drop() {
	e := c.ring[c.head]
	c.ring[c.head] = replayEntry{}
	c.head = (c.head + 1) % len(c.ring)
	c.n--
	if at, ok := c.seen[e.key]; ok && at == e.at {
		delete(c.seen, e.key)
		c.dels++
	}
	if c.dels >= c.max {
		c.rebuild()
	}
}

// rebuild makes seen anew from the live entries of the ring.
func (c *replayCache) rebuild() {
	seen := make(map[[sha256.Size]byte]int64, c.n)
	for i := range c.n {
		e := c.ring[(c.head+i)%len(c.ring)]
		seen[e.key] = e.at
	}
	c.seen, c.dels = seen, 0
}

// len returns the number of remembered tokens.
func (c *replayCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}
