package twilio

import (
	"sync"
	"time"
)

// replayCache remembers the idempotency tokens of webhooks that were
// handled, for a bounded time and in a bounded number. It is safe for
// concurrent use.
type replayCache struct {
	mu     sync.Mutex
	window time.Duration
	max    int
	seen   map[string]time.Time
	order  []replayEntry // oldest first; order[head:] are live
	head   int
}

type replayEntry struct {
	token string
	at    time.Time
}

func newReplayCache(window time.Duration, max int) *replayCache {
	return &replayCache{window: window, max: max, seen: make(map[string]time.Time)}
}

// contains reports whether token was added within the window before now.
func (c *replayCache) contains(token string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expire(now)
	at, ok := c.seen[token]
	return ok && now.Sub(at) < c.window
}

// add records token as handled at now.
func (c *replayCache) add(token string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expire(now)
	if _, ok := c.seen[token]; ok {
		return
	}
	for len(c.seen) >= c.max && c.head < len(c.order) {
		c.drop()
	}
	c.seen[token] = now
	c.order = append(c.order, replayEntry{token, now})
}

func (c *replayCache) expire(now time.Time) {
	for c.head < len(c.order) && now.Sub(c.order[c.head].at) >= c.window {
		c.drop()
	}
	if c.head > 64 && c.head*2 >= len(c.order) {
		c.order = append([]replayEntry(nil), c.order[c.head:]...)
		c.head = 0
	}
}

func (c *replayCache) drop() {
	e := c.order[c.head]
	c.order[c.head] = replayEntry{}
	c.head++
	if at, ok := c.seen[e.token]; ok && at.Equal(e.at) {
		delete(c.seen, e.token)
	}
}

// len returns the number of remembered tokens.
func (c *replayCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}
