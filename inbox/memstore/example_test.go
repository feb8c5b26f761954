package memstore_test

import (
	"context"
	"fmt"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/inbox/store/textindex"
)

func Example() {
	ctx := context.Background()
	s := memstore.New() // keeps nothing across restarts
	at := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

	th := store.Thread{
		ID:       "th1",
		Subject:  store.Subject{Kind: store.Contact, ID: "member-42"},
		Snapshot: store.Snapshot{FirstName: "Hélène", LastName: "Dubois", Phone: "+33612345678"},
		SortTime: at, LastActivityAt: at, Unread: 1,
	}
	msg := &store.Message{ID: "m1", ThreadID: "th1", Direction: store.Inbound, Kind: channel.SMS,
		Text: "Bonjour, je voudrais déplacer mon cours de yoga", ProviderID: "SM1", Unread: true, CreatedAt: at}
	if err := s.WriteThread(ctx, store.ThreadWrite{Thread: th, Message: msg}); err != nil {
		fmt.Println(err)
		return
	}

	for _, typed := range []string{"helene", "06 12 34 56 78", "yoga déplacer", "pilates"} {
		page, _ := s.Threads(ctx, store.ThreadQuery{Search: textindex.ParseQuery(typed), Limit: 10})
		fmt.Printf("%q: %d thread(s)\n", typed, len(page))
	}
	c, _ := s.Counters(ctx, at)
	fmt.Println("attention:", c.Attention)
	// Output:
	// "helene": 1 thread(s)
	// "06 12 34 56 78": 1 thread(s)
	// "yoga déplacer": 1 thread(s)
	// "pilates": 0 thread(s)
	// attention: 1
}
