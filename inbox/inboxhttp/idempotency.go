package inboxhttp

import (
	"container/list"
	"context"
	"errors"
	"sync"
	"time"
)

// Errors of an Idempotency store.
var (
	// ErrInProgress: a request with the same key is still running (409).
	ErrInProgress = errors.New("inboxhttp: a request with this idempotency key is in progress")
	// ErrKeyReused: the key was used for a different request (422).
	ErrKeyReused = errors.New("inboxhttp: idempotency key reused for a different request")
)

// IdempotencyKey scopes a client's Idempotency-Key to its tenant and agent:
// two agents never share results.
type IdempotencyKey struct {
	Tenant, Agent, Key string
}

// StoredResponse is the response kept for a key.
type StoredResponse struct {
	Status int
	Body   []byte
}

// Idempotency keeps the results of requests sent with an Idempotency-Key
// header, so that a retried send is sent once. Implementations are safe for
// concurrent use, and Begin is atomic: of two concurrent Begins with one
// key, exactly one claims it.
type Idempotency interface {
	// Begin claims key for a request whose content hashes to fingerprint.
	// A new key returns (nil, nil): the caller runs the request, then calls
	// Finish or Release. A key whose request finished returns its stored
	// response. A key whose request is running returns ErrInProgress; a
	// key used with another fingerprint returns ErrKeyReused.
	Begin(ctx context.Context, key IdempotencyKey, fingerprint string) (*StoredResponse, error)
	// Finish stores the response of a claimed key.
	Finish(ctx context.Context, key IdempotencyKey, resp StoredResponse) error
	// Release forgets a claimed key whose request did nothing, so that a
	// retry runs it again.
	Release(ctx context.Context, key IdempotencyKey) error
}

// IdempotencyOptions configure NewMemoryIdempotency. The zero value means
// every default.
type IdempotencyOptions struct {
	// Max is the number of keys kept; the oldest finished ones are
	// forgotten first. Default: 10,000.
	Max int
	// TTL is how long a key is kept after it was claimed. Default: 24 h.
	TTL time.Duration
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// MemoryIdempotency keeps idempotency keys in memory, bounded in number and
// time. It keeps nothing across restarts and is not shared between
// processes.
type MemoryIdempotency struct {
	max   int
	ttl   time.Duration
	now   func() time.Time
	mu    sync.Mutex
	keys  map[IdempotencyKey]*list.Element
	order *list.List // of *idemEntry, oldest claim first
}

type idemEntry struct {
	key         IdempotencyKey
	fingerprint string
	claimed     time.Time
	done        bool
	resp        StoredResponse
}

var _ Idempotency = (*MemoryIdempotency)(nil)

// NewMemoryIdempotency returns an in-memory Idempotency.
func NewMemoryIdempotency(opts IdempotencyOptions) *MemoryIdempotency {
	m := &MemoryIdempotency{max: opts.Max, ttl: opts.TTL, now: opts.Now, keys: map[IdempotencyKey]*list.Element{}, order: list.New()}
	if m.max <= 0 {
		m.max = 10_000
	}
	if m.ttl <= 0 {
		m.ttl = 24 * time.Hour
	}
	if m.now == nil {
		m.now = time.Now
	}
	return m
}

// Begin implements Idempotency.
func (m *MemoryIdempotency) Begin(ctx context.Context, key IdempotencyKey, fingerprint string) (*StoredResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.expire(now)
	if el, ok := m.keys[key]; ok {
		e := el.Value.(*idemEntry)
		switch {
		case e.fingerprint != fingerprint:
			return nil, ErrKeyReused
		case !e.done:
			return nil, ErrInProgress
		}
		r := e.resp
		r.Body = append([]byte(nil), r.Body...)
		return &r, nil
	}
	m.keys[key] = m.order.PushBack(&idemEntry{key: key, fingerprint: fingerprint, claimed: now})
	m.evict()
	return nil, nil
}

// Finish implements Idempotency.
func (m *MemoryIdempotency) Finish(_ context.Context, key IdempotencyKey, resp StoredResponse) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if el, ok := m.keys[key]; ok {
		e := el.Value.(*idemEntry)
		e.done = true
		e.resp = StoredResponse{Status: resp.Status, Body: append([]byte(nil), resp.Body...)}
	}
	return nil
}

// Release implements Idempotency.
func (m *MemoryIdempotency) Release(_ context.Context, key IdempotencyKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if el, ok := m.keys[key]; ok {
		m.order.Remove(el)
		delete(m.keys, key)
	}
	return nil
}

// Len returns the number of keys kept.
func (m *MemoryIdempotency) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.keys)
}

// expire drops keys claimed more than ttl ago (the oldest are at the front).
func (m *MemoryIdempotency) expire(now time.Time) {
	for el := m.order.Front(); el != nil; el = m.order.Front() {
		e := el.Value.(*idemEntry)
		if now.Sub(e.claimed) < m.ttl {
			return
		}
		m.order.Remove(el)
		delete(m.keys, e.key)
	}
}

// evict forgets the oldest finished keys beyond max. Keys of running
// requests are kept, so a duplicate of a running request is always refused.
func (m *MemoryIdempotency) evict() {
	for el := m.order.Front(); el != nil && len(m.keys) > m.max; {
		next := el.Next()
		if e := el.Value.(*idemEntry); e.done {
			m.order.Remove(el)
			delete(m.keys, e.key)
		}
		el = next
	}
}
