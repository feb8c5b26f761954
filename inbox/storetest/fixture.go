package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/recipient"
)

// t0 is the start of every scenario's clock.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// clock is a fake clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// ids returns sequential IDs, so that creation order is ID order.
func ids(prefix string) func() string {
	var mu sync.Mutex
	n := 0
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		n++
		return fmt.Sprintf("%s%08d", prefix, n)
	}
}

// directory is the host's records in every scenario.
type directory struct {
	contacts  map[string]recipient.Contact
	audiences map[string]store.AudienceInfo
	events    map[string]store.EventInfo
}

var (
	helene = recipient.Contact{ID: "c-helene", FirstName: "Hélène", LastName: "Dupont", Email: "helene.dupont@example.fr", Phone: "+33612345678"}
	marc   = recipient.Contact{ID: "c-marc", FirstName: "Marc", LastName: "Martin", Email: "marc@example.fr", Phone: "+33687654321"}
	john   = recipient.Contact{ID: "c-john", FirstName: "John", LastName: "O'Brien", Email: "john@example.com", Phone: "+12015550123"}
	zoe    = recipient.Contact{ID: "c-zoe", FirstName: "Zoé", LastName: "Lefèvre", Email: "zoe@example.fr", Phone: "+33611223344"}
)

func newDirectory() *directory {
	d := &directory{contacts: map[string]recipient.Contact{}, audiences: map[string]store.AudienceInfo{}, events: map[string]store.EventInfo{}}
	for _, c := range []recipient.Contact{helene, marc, john, zoe} {
		d.contacts[c.ID] = c
	}
	d.audiences["a-yoga"] = store.AudienceInfo{ID: "a-yoga", Name: "Yoga lovers", Members: []recipient.Contact{helene, marc}}
	d.events["e-pilates"] = store.EventInfo{ID: "e-pilates", Name: "Pilates débutant 18:00", Start: t0.Add(9 * time.Hour),
		Attendees: []recipient.Attendee{{Contact: helene, Group: recipient.Booked}, {Contact: john, Group: recipient.Waitlisted}}}
	return d
}

func (d *directory) Contact(ctx context.Context, id string) (recipient.Contact, error) {
	if c, ok := d.contacts[id]; ok {
		return c, nil
	}
	return recipient.Contact{}, fmt.Errorf("contact %s: %w", id, store.ErrNotFound)
}

func (d *directory) ContactByAddress(ctx context.Context, kind channel.Kind, addr string) (recipient.Contact, error) {
	for _, c := range d.contacts {
		if c.Address(kind) == addr {
			return c, nil
		}
	}
	return recipient.Contact{}, fmt.Errorf("address %s: %w", addr, store.ErrNotFound)
}

func (d *directory) Audience(ctx context.Context, id string) (store.AudienceInfo, error) {
	if a, ok := d.audiences[id]; ok {
		return a, nil
	}
	return store.AudienceInfo{}, fmt.Errorf("audience %s: %w", id, store.ErrNotFound)
}

func (d *directory) Event(ctx context.Context, id string) (store.EventInfo, error) {
	if e, ok := d.events[id]; ok {
		return e, nil
	}
	return store.EventInfo{}, fmt.Errorf("event %s: %w", id, store.ErrNotFound)
}

func (d *directory) Details(ctx context.Context, s store.Subject) (store.Details, error) {
	switch s.Kind {
	case store.Contact:
		c, err := d.Contact(ctx, s.ID)
		if err != nil {
			return store.Details{}, err
		}
		return store.Details{Contact: &store.ContactDetails{ID: c.ID, Name: c.Name(), Phone: c.Phone, Email: c.Email,
			Bookings: []store.Booking{{ID: "b1", CheckIn: t0.AddDate(0, 0, 3), CheckOut: t0.AddDate(0, 0, 5), Room: "12"}}}}, nil
	case store.Event:
		e, err := d.Event(ctx, s.ID)
		if err != nil {
			return store.Details{}, err
		}
		return store.Details{Event: &store.EventDetails{Start: e.Start, Booked: 1, Waitlist: 1, Capacity: 12, Teacher: "Léa"}}, nil
	}
	return store.Details{Audience: &store.AudienceDetails{Members: 2, Description: "members who booked yoga"}}, nil
}

// env is one scenario: a fresh store, an inbox on it, its clock.
type env struct {
	t     *testing.T
	ctx   context.Context
	store store.Store
	in    *inbox.Inbox
	clock *clock
	dir   *directory
	seq   int
}

func newEnv(t *testing.T, newStore func(t *testing.T) store.Store, opts inbox.Options) *env {
	t.Helper()
	c := &clock{t: t0}
	s := newStore(t)
	opts.Now = c.Now
	if opts.StatusWait == 0 {
		opts.StatusWait = -1 // unknown statuses answer at once, but where a scenario waits
	}
	if opts.Logger == nil {
		opts.Logger = quietLogger
	}
	if opts.NewID == nil {
		opts.NewID = ids("id")
	}
	dir := newDirectory()
	if opts.Directory == nil {
		opts.Directory = dir
	}
	in, err := inbox.New(s, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = in.Close() })
	return &env{t: t, ctx: context.Background(), store: s, in: in, clock: c, dir: dir}
}

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

// receive stores an inbound SMS from an address, one minute after the
// previous step.
func (e *env) receive(kind channel.Kind, from, text string) inbox.Message {
	e.t.Helper()
	e.clock.Advance(time.Minute)
	e.seq++
	m, err := e.in.ReceiveMessage(e.ctx, channel.Inbound{Kind: kind, From: from, To: "+33757000001", Text: text,
		ProviderID: fmt.Sprintf("in-%d", e.seq), ReceivedAt: e.clock.Now()})
	e.must(err)
	return m
}

// send records an outbound direct message by agent "agent-1".
func (e *env) send(threadID, text string) inbox.Message {
	e.t.Helper()
	e.clock.Advance(time.Minute)
	e.seq++
	m, _, err := e.in.RecordOutbound(e.ctx, inbox.Outgoing{ThreadID: threadID,
		Message:    inbox.Message{Kind: channel.SMS, Text: text, Author: inbox.Author{Agent: "agent-1"}},
		Deliveries: []inbox.Delivery{{Address: "+33612345678", ProviderID: fmt.Sprintf("out-%d", e.seq)}}})
	e.must(err)
	return m
}

func (e *env) start(s store.Subject) inbox.Thread {
	e.t.Helper()
	th, err := e.in.Start(e.ctx, s)
	e.must(err)
	return th
}

func (e *env) thread(id string) inbox.Thread {
	e.t.Helper()
	th, err := e.in.Thread(e.ctx, id)
	e.must(err)
	return th
}

// list returns the IDs of every thread matching q, paging with size n.
func (e *env) list(q inbox.ThreadQuery, n int) []string {
	e.t.Helper()
	q.Limit = n
	var out []string
	for th, err := range e.in.AllThreads(e.ctx, q) {
		e.must(err)
		out = append(out, th.ID)
	}
	return out
}

func contactSubject(c recipient.Contact) store.Subject {
	return store.Subject{Kind: store.Contact, ID: c.ID}
}
