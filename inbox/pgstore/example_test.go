package pgstore_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/pgstore"
)

// Example runs an inbox on PostgreSQL: migrate, open a tenant's store, and
// use it through inbox.Inbox as any store. (The tests point
// PARLEY_POSTGRES_DSN at their throw-away server.)
func Example() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("PARLEY_POSTGRES_DSN"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pool.Close()
	if err := pgstore.Migrate(ctx, pool); err != nil { // idempotent: run it at every start
		fmt.Println(err)
		return
	}
	s, err := pgstore.Open(ctx, pool, "studio-"+rand.Text()) // one tenant per account
	if err != nil {
		fmt.Println(err)
		return
	}
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	ib, err := inbox.New(s, inbox.Options{Now: func() time.Time { return at }})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ib.Close()

	hook := channel.Inbound{Kind: channel.SMS, From: "+33612345678", Text: "Bonjour, je voudrais réserver le cours de yoga", ProviderID: "SM1"}
	for range 2 { // a webhook delivered twice is stored once (M5)
		if _, err := ib.ReceiveMessage(ctx, hook); err != nil {
			fmt.Println(err)
			return
		}
	}
	for _, typed := range []string{"reserver yoga", "06 12 34", "pilates"} {
		page, err := ib.Threads(ctx, inbox.ThreadQuery{Search: typed})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%q: %d thread(s)\n", typed, len(page.Threads))
	}
	page, _ := ib.Threads(ctx, inbox.ThreadQuery{Status: inbox.Unread})
	fmt.Println("unread:", page.Threads[0].Unread)
	// Output:
	// "reserver yoga": 1 thread(s)
	// "06 12 34": 1 thread(s)
	// "pilates": 0 thread(s)
	// unread: 1
}
