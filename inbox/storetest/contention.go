package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/channeltest"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/status"
)

// testContention: 8 writers × 200 mixed operations on one thread — inbound
// messages, recorded and sent outbound ones, reads, mutes, favourites,
// assignments, archive and lifecycle changes, mark-unread and status
// updates — all succeed: a write that loses an optimistic-concurrency race
// backs off and retries until it wins, and the thread ends consistent with
// its messages (T1, T5).
func testContention(t *testing.T, ns func(*testing.T) store.Store) {
	reg := channel.NewRegistry()
	fake := channeltest.NewFake(channel.SMS, channeltest.Options{IDPrefix: "SMc"})
	e := newEnv(t, ns, inbox.Options{Channels: reg})
	e.must(reg.Register(channel.SMS, fake, channel.Config{Identities: []channel.Identity{{ID: "main", Address: "+33757000001", TwoWay: true}}}))
	th := e.start(contactSubject(helene))
	const writers, ops = 8, 200
	var (
		mu      sync.Mutex
		written int      // messages stored
		pids    []string // provider IDs of outbound deliveries
		wg      sync.WaitGroup
	)
	fail := func(w, i int, what string, err error) {
		t.Errorf("writer %d, operation %d (%s): %v", w, i, what, err)
	}
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 12))
			for i := range ops {
				var (
					err  error
					what string
					adds int
				)
				switch op := rng.IntN(10); op {
				case 0:
					what, adds = "receive", 1
					_, err = e.in.ReceiveMessage(e.ctx, channel.Inbound{Kind: channel.SMS, From: helene.Phone, Text: "message",
						ProviderID: fmt.Sprintf("in-%d-%d", w, i)})
				case 1:
					what, adds = "record", 1
					pid := fmt.Sprintf("out-%d-%d", w, i)
					_, _, err = e.in.RecordOutbound(e.ctx, inbox.Outgoing{ThreadID: th.ID, Message: inbox.Message{Kind: channel.SMS, Text: "réponse"},
						Deliveries: []inbox.Delivery{{ContactID: helene.ID, Address: helene.Phone, ProviderID: pid, Status: status.Record{Current: status.Validated}}}})
					if err == nil {
						mu.Lock()
						pids = append(pids, pid)
						mu.Unlock()
					}
				case 2:
					what = "read"
					_, err = e.in.MarkRead(e.ctx, th.ID)
				case 3:
					what = "mute"
					if rng.IntN(2) == 0 {
						_, err = e.in.Mute(e.ctx, th.ID, time.Time{})
					} else {
						_, err = e.in.Unmute(e.ctx, th.ID)
					}
				case 4:
					what = "favourite"
					_, err = e.in.SetFavourite(e.ctx, th.ID, rng.IntN(2) == 0)
				case 5:
					what = "assign"
					_, err = e.in.Assign(e.ctx, th.ID, fmt.Sprintf("agent-%d", rng.IntN(4)), "boss")
				case 6:
					what = "mark unread"
					_, err = e.in.MarkUnread(e.ctx, th.ID)
					if errors.Is(err, inbox.ErrMarkUnreadNotAllowed) {
						err = nil // the thread had unread messages or none: a verdict, not a failure
					}
				case 7:
					what = "archive, close"
					switch rng.IntN(4) {
					case 0:
						_, err = e.in.Archive(e.ctx, th.ID)
					case 1:
						_, err = e.in.Restore(e.ctx, th.ID)
					case 2:
						_, err = e.in.CloseThread(e.ctx, th.ID)
					default:
						_, err = e.in.ReopenThread(e.ctx, th.ID)
					}
				case 8:
					what = "status"
					mu.Lock()
					pid := ""
					if len(pids) > 0 {
						pid = pids[rng.IntN(len(pids))]
					}
					mu.Unlock()
					if pid != "" {
						err = e.in.ApplyStatus(e.ctx, channel.StatusUpdate{Kind: channel.SMS, ProviderID: pid, Status: status.All()[rng.IntN(9)]})
					}
				case 9:
					what, adds = "send", 1
					var res inbox.SendResult
					res, err = e.in.Send(e.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "envoyé"})
					if err == nil && len(res.Deliveries) == 1 && res.Deliveries[0].ProviderID != "" {
						mu.Lock()
						pids = append(pids, res.Deliveries[0].ProviderID)
						mu.Unlock()
					}
				}
				if err != nil {
					fail(w, i, what, err)
					continue
				}
				mu.Lock()
				written += adds
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	got := e.thread(th.ID)
	var all []inbox.Message
	for page := (inbox.MessagePage{}); ; {
		var err error
		page, err = e.in.Messages(e.ctx, inbox.MessageQuery{ThreadID: th.ID, Limit: inbox.MaxPageSize, Cursor: page.Next})
		e.must(err)
		all = append(all, page.Messages...)
		if page.Next == "" {
			break
		}
	}
	unread := 0
	for _, m := range all {
		if m.Unread {
			unread++
		}
	}
	if got.Messages != written || len(all) != written || got.Unread != unread {
		t.Fatalf("after contention: thread counts %d messages (%d unread), the store holds %d (%d unread), %d were written",
			got.Messages, got.Unread, len(all), unread, written)
	}
}
