package pgstore_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/pgstore"
)

// clusters places each tenant on one of several PostgreSQL clusters: a
// pool per cluster, and a tenant→cluster map the host keeps (in its own
// account table, say). A pgstore.Store is scoped to one tenant, so this is
// all it takes to grow past one server: a tenant's threads, feed and rate
// limits live on its cluster, and no query spans two.
type clusters struct {
	pools     map[string]*pgxpool.Pool // cluster → pool
	placement map[string]string        // tenant → cluster

	mu      sync.Mutex
	inboxes map[string]*inbox.Inbox // tenant → its inbox, opened once
}

// inbox returns the tenant's Inbox, on the tenant's cluster.
func (c *clusters) inbox(ctx context.Context, tenant string) (*inbox.Inbox, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ib, ok := c.inboxes[tenant]; ok {
		return ib, nil
	}
	pool, ok := c.pools[c.placement[tenant]]
	if !ok {
		return nil, fmt.Errorf("tenant %q is placed on no cluster", tenant)
	}
	s, err := pgstore.Open(ctx, pool, tenant)
	if err != nil {
		return nil, err
	}
	ib, err := inbox.New(s, inbox.Options{})
	if err != nil {
		return nil, err
	}
	c.inboxes[tenant] = ib
	return ib, nil
}

// Example_clusters places tenants on two clusters by a tenant→pool map
// (docs/scaling.md). Webhooks and agents find the tenant first (by the
// number called, or the agent's account), then its inbox. (Both clusters
// are the tests' throw-away server here; in production each name points at
// its own PostgreSQL.)
func Example_clusters() {
	ctx := context.Background()
	c := &clusters{pools: map[string]*pgxpool.Pool{}, placement: map[string]string{}, inboxes: map[string]*inbox.Inbox{}}
	for _, name := range []string{"eu-1", "eu-2"} {
		pool, err := pgxpool.New(ctx, os.Getenv("PARLEY_POSTGRES_DSN")) // each cluster's own DSN
		if err != nil {
			fmt.Println(err)
			return
		}
		defer pool.Close()
		if err := pgstore.Migrate(ctx, pool); err != nil { // on every cluster
			fmt.Println(err)
			return
		}
		c.pools[name] = pool
	}
	run := rand.Text()[:8]
	seaside, alpine := "seaside-"+run, "alpine-"+run
	c.placement[seaside], c.placement[alpine] = "eu-1", "eu-2"
	defer func() {
		for _, ib := range c.inboxes {
			_ = ib.Shutdown(ctx)
		}
	}()

	hooks := []struct {
		tenant string
		msg    channel.Inbound
	}{
		{seaside, channel.Inbound{Kind: channel.SMS, From: "+33612345678", Text: "Late arrival tonight", ProviderID: "SM1"}},
		{alpine, channel.Inbound{Kind: channel.SMS, From: "+41791234567", Text: "Ski room key?", ProviderID: "SM1"}},
		{alpine, channel.Inbound{Kind: channel.SMS, From: "+41797654321", Text: "Sauna hours?", ProviderID: "SM2"}},
	}
	for _, h := range hooks {
		ib, err := c.inbox(ctx, h.tenant)
		if err != nil {
			fmt.Println(err)
			return
		}
		if err := ib.Receive(ctx, h.msg); err != nil {
			fmt.Println(err)
			return
		}
	}
	for _, tenant := range []string{seaside, alpine} {
		ib, _ := c.inbox(ctx, tenant)
		page, err := ib.Threads(ctx, inbox.ThreadQuery{})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s on %s: %d thread(s)\n", tenant[:len(tenant)-len(run)-1], c.placement[tenant], len(page.Threads))
	}
	// Output:
	// seaside on eu-1: 1 thread(s)
	// alpine on eu-2: 2 thread(s)
}
