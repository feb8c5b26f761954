package inbox

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox/store"
)

// DefaultStatusWait is how long ApplyStatus looks for the delivery of a
// status update whose provider ID no delivery has yet, before it gives up
// (see Options.StatusWait).
const DefaultStatusWait = 5 * time.Second

// The pauses between the lookups of an unknown provider ID double from
// firstStatusPoll up to maxStatusPoll.
const (
	firstStatusPoll = 20 * time.Millisecond
	maxStatusPoll   = 500 * time.Millisecond
)

// awaitDelivery looks for the delivery of a status update whose provider ID
// was just not found, until the status wait is over. It gives up at once
// when the wait is off or the ID was given up on recently. Giving up
// publishes EventUnknownStatus, logs the update and returns an error
// matching channel.ErrUnknownMessage.
func (in *Inbox) awaitDelivery(ctx context.Context, u channel.StatusUpdate) (Delivery, error) {
	var waited time.Duration
	if !in.unknown.has(u.ProviderID) {
		pause := firstStatusPoll
		for waited < in.statusWait {
			p := min(pause, in.statusWait-waited)
			t := time.NewTimer(p)
			select {
			case <-ctx.Done():
				t.Stop()
				return Delivery{}, ctx.Err()
			case <-t.C:
			}
			waited += p
			pause = min(2*pause, maxStatusPoll)
			d, err := in.store.DeliveryByProviderID(ctx, u.ProviderID)
			if err == nil {
				return d, nil
			}
			if !errors.Is(err, store.ErrNotFound) {
				return Delivery{}, wrapStore("delivery", err)
			}
		}
		in.unknown.add(u.ProviderID)
	}
	in.publish(ctx, Event{Type: EventUnknownStatus, Kind: u.Kind, Address: u.Recipient, ProviderID: u.ProviderID, Status: u.Status, At: in.now()})
	in.log.WarnContext(ctx, "inbox: status update for a provider ID no delivery has: acknowledged, not applied",
		"kind", u.Kind.String(), "provider_id", u.ProviderID, "status", u.Status.String(), "raw", u.Raw, "waited", waited)
	return Delivery{}, fmt.Errorf("inbox: status %s for %s: no delivery has it (waited %v): %w", u.Status, u.ProviderID, waited, channel.ErrUnknownMessage)
}

// unknownIDs remembers the last provider IDs ApplyStatus gave up on, so
// that the next updates of one (a message sent outside Parley goes through
// sent, delivered and read) and a provider's retries are answered without
// waiting again. It is safe for concurrent use.
type unknownIDs struct {
	mu   sync.Mutex
	set  map[string]struct{}
	ring []string // insertion order; the oldest is forgotten first
	next int
}

// unknownMemory is how many provider IDs unknownIDs remembers.
const unknownMemory = 1024

func (u *unknownIDs) has(id string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	_, ok := u.set[id]
	return ok
}

func (u *unknownIDs) add(id string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, ok := u.set[id]; ok {
		return
	}
	if u.set == nil {
		u.set = make(map[string]struct{}, unknownMemory)
		u.ring = make([]string, unknownMemory)
	}
	if old := u.ring[u.next]; old != "" {
		delete(u.set, old)
	}
	u.ring[u.next] = id
	u.set[id] = struct{}{}
	u.next = (u.next + 1) % unknownMemory
}
