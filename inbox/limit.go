package inbox

import (
	"context"
	"sync"
	"time"

	"github.com/parleyhq/parley/channel"
)

// reserveTimeout bounds one reservation of sends from the store.
const reserveTimeout = 10 * time.Second

// sendLimiter spreads the sends of one sender identity over time with the
// store's token bucket (store.Limiter), so that the identity's rate holds
// across every Inbox on the store (C9). The sends that wait at the same
// time on one Inbox reserve their turns together, in one store call: a
// fan-out of sixteen workers makes one call per round, not sixteen.
type sendLimiter struct {
	in        *Inbox
	key       string
	perSecond float64
	burst     int
	interval  time.Duration

	mu       sync.Mutex
	queue    []chan reservation
	claiming bool
}

type reservation struct {
	wait time.Duration
	err  error
}

// Wait returns when the caller may send, or ctx's error. A turn reserved
// for a caller whose ctx ends first is lost (a gap, never an excess).
func (l *sendLimiter) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ch := make(chan reservation, 1)
	l.mu.Lock()
	l.queue = append(l.queue, ch)
	if !l.claiming {
		l.claiming = true
		go l.claim()
	}
	l.mu.Unlock()
	var r reservation
	select {
	case r = <-ch:
	case <-ctx.Done():
		return ctx.Err()
	}
	if r.err != nil {
		return r.err
	}
	if r.wait <= 0 {
		return nil
	}
	t := time.NewTimer(r.wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// claim reserves turns for the callers waiting, in rounds, until none is
// left.
func (l *sendLimiter) claim() {
	for {
		l.mu.Lock()
		batch := l.queue
		l.queue = nil
		if len(batch) == 0 {
			l.claiming = false
			l.mu.Unlock()
			return
		}
		l.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), reserveTimeout)
		wait, err := l.in.store.ReserveSends(ctx, l.key, l.perSecond, l.burst, len(batch))
		cancel()
		if err != nil {
			err = wrapStore("rate limit "+l.key, err)
		}
		for i, ch := range batch {
			ch <- reservation{wait: wait + time.Duration(i)*l.interval, err: err}
		}
	}
}

// limiter returns the rate limiter of an identity, nil when unlimited.
func (in *Inbox) limiter(id channel.Identity) *sendLimiter {
	in.limMu.Lock()
	defer in.limMu.Unlock()
	key := id.Kind.String() + "/" + id.ID
	if l, ok := in.limiters[key]; ok {
		return l
	}
	var l *sendLimiter
	for _, rl := range in.rateLimits {
		if rl.Kind == id.Kind && (rl.Identity == "" || rl.Identity == id.ID) && rl.PerSecond > 0 {
			l = &sendLimiter{in: in, key: key, perSecond: rl.PerSecond, burst: max(rl.Burst, 1),
				interval: time.Duration(float64(time.Second) / rl.PerSecond)}
			if rl.Identity == id.ID {
				break
			}
		}
	}
	in.limiters[key] = l
	return l
}
