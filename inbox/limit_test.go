package inbox_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/channeltest"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/recipient"
)

// timedSender records when each send starts, on the clock of the test
// (synctest's in a bubble).
type timedSender struct {
	next  channel.Sender
	mu    sync.Mutex
	times []time.Time
}

func (s *timedSender) Send(ctx context.Context, msg *channel.Message) (channel.Receipt, error) {
	s.mu.Lock()
	s.times = append(s.times, time.Now())
	s.mu.Unlock()
	return s.next.Send(ctx, msg)
}

// maxInWindow returns the largest number of sends that started within
// one window [t, t+window) that begins at a send.
func maxInWindow(times []time.Time, window time.Duration) int {
	ts := slices.Clone(times)
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	most := 0
	for i, t := range ts {
		j := i
		for j < len(ts) && ts[j].Before(t.Add(window)) {
			j++
		}
		most = max(most, j-i)
	}
	return most
}

// C9: a sender identity's rate holds across every Inbox on a store (two
// app instances): two broadcasts fanned out at once, one per Inbox, start
// at most PerSecond sends in any second. In a synctest bubble timers fire
// on time, so the bound is exact: GCRA with a burst of 1 spaces the sends
// by exactly 1/PerSecond.
func TestRateLimitSharedAcrossInboxes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const perSecond, members = 10, 20
		st := memstore.New()
		dir := memstore.NewDirectory()
		var contacts []recipient.Contact
		for i := range 2 * members {
			c := recipient.Contact{ID: fmt.Sprintf("m%02d", i), Phone: fmt.Sprintf("+336120000%02d", i)}
			if err := dir.PutContact(c); err != nil {
				t.Fatal(err)
			}
			contacts = append(contacts, c)
		}
		dir.PutAudience(inbox.AudienceInfo{ID: "early", Name: "Early birds", Members: contacts[:members]})
		dir.PutAudience(inbox.AudienceInfo{ID: "late", Name: "Night owls", Members: contacts[members:]})
		rec := &timedSender{next: channeltest.NewFake(channel.SMS, channeltest.Options{})}
		ctx := context.Background()
		var wg sync.WaitGroup
		for _, audience := range []string{"early", "late"} {
			reg := channel.NewRegistry()
			if err := reg.Register(channel.SMS, rec, channel.Config{Identities: []channel.Identity{{ID: "main", Address: "+33757000001"}}}); err != nil {
				t.Fatal(err)
			}
			ib, err := inbox.New(st, inbox.Options{Directory: dir, Channels: reg, NewID: ids(audience),
				RateLimits: []inbox.RateLimit{{Kind: channel.SMS, PerSecond: perSecond, Burst: 1}}})
			if err != nil {
				t.Fatal(err)
			}
			th, err := ib.Start(ctx, inbox.Subject{Kind: inbox.SubjectAudience, ID: audience})
			if err != nil {
				t.Fatal(err)
			}
			wg.Go(func() {
				defer ib.Close()
				if _, err := ib.Send(ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "The studio opens at 7 tomorrow."}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if len(rec.times) != 2*members {
			t.Fatalf("C9: %d sends, want %d", len(rec.times), 2*members)
		}
		if got := maxInWindow(rec.times, time.Second); got > perSecond {
			t.Fatalf("C9: %d sends started within one second through an identity limited to %d/s", got, perSecond)
		}
	})
}

// ids returns sequential IDs with a prefix of their own.
func ids(prefix string) func() string {
	var mu sync.Mutex
	n := 0
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		n++
		return fmt.Sprintf("%s-%06d", prefix, n)
	}
}
