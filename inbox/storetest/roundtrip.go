package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/status"
)

// computed lists the fields of the stored types that a store computes
// rather than keeps as written, so the round trip leaves them out of what
// it writes and checks them apart: a thread's and a delivery's Version (the
// store's optimistic-concurrency counter, 1 after an insert, one more after
// each write) and a message's Counts (the store's tally of its deliveries'
// statuses, S5). Every other exported field, at any depth, must come back
// as it was written.
var computed = []string{"Thread.Version", "Message.Counts", "Delivery.Version"}

// testRoundTrip writes a Thread, a Message, two Deliveries and an
// Assignment whose every exported field, recursively (nested structs,
// slices, maps: status.Record, channel.Attachment, channel.Cost, SMSInfo…),
// holds a distinct non-zero value, reads them back through every read
// method of the Store and compares field by field. The fields are found by
// reflection, so a field added to the model and not stored by a store
// fails here.
func testRoundTrip(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	s := e.store
	ctx := e.ctx
	f := &filler{at: t0.Add(time.Hour)}

	var th store.Thread
	f.fill(reflect.ValueOf(&th).Elem(), "Thread")
	th.Subject.Kind = store.Contact
	th.Version = 0
	var m store.Message
	f.fill(reflect.ValueOf(&m).Elem(), "Message")
	m.ThreadID = th.ID
	m.Counts = status.Counts{}
	m.Direction = store.Outbound // with deliveries; an inbound copy is checked below
	ds := make([]store.Delivery, 2)
	for i := range ds {
		f.fill(reflect.ValueOf(&ds[i]).Elem(), "Delivery")
		ds[i].MessageID, ds[i].ThreadID, ds[i].Version = m.ID, th.ID, 0
		validStatuses(&ds[i].Status, status.Scheduled)
		ds[i].Anchor = "anchor-" + th.ID // both scheduled on one anchor
	}
	var a store.Assignment
	f.fill(reflect.ValueOf(&a).Elem(), "Assignment")
	a.ThreadID = th.ID

	e.must(s.WriteThread(ctx, store.ThreadWrite{Thread: th, Message: &m, Deliveries: ds, Assignment: &a}))
	th.Version = 1
	for i := range ds {
		ds[i].Version = 1
	}
	wantCounts := status.Counts{}
	wantCounts[status.Scheduled] = len(ds)

	check := func(how string, want, got any) {
		t.Helper()
		if diff := diffValues(reflect.TypeOf(want).Name(), reflect.ValueOf(want), reflect.ValueOf(got)); len(diff) > 0 {
			t.Errorf("round trip through %s: fields not stored as written:\n\t%s", how, strings.Join(diff, "\n\t"))
		}
	}
	checkMessage := func(how string, got store.Message) {
		t.Helper()
		if got.Counts != wantCounts {
			t.Errorf("round trip through %s: Counts %v, want %v", how, got.Counts, wantCounts)
		}
		got.Counts = status.Counts{}
		check(how, m, got)
	}

	got, err := s.Thread(ctx, th.ID)
	e.must(err)
	check("Thread", th, got)
	got, err = s.LiveThread(ctx, th.Subject)
	e.must(err)
	check("LiveThread", th, got)

	gm, err := s.Message(ctx, m.ID)
	e.must(err)
	checkMessage("Message", gm)
	// an outbound message's provider ID is its delivery's namespace (M5):
	// MessageByProviderID finds inbound messages only
	if _, err := s.MessageByProviderID(ctx, m.ProviderID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("round trip: MessageByProviderID found an outbound message (err %v), want ErrNotFound", err)
	}
	ms, err := s.Messages(ctx, store.MessageQuery{ThreadID: th.ID, Limit: 10})
	e.must(err)
	if len(ms) != 1 {
		t.Fatalf("round trip: Messages returned %d messages, want 1", len(ms))
	}
	checkMessage("Messages", ms[0])

	as, err := s.Assignments(ctx, th.ID)
	e.must(err)
	if len(as) != 1 {
		t.Fatalf("round trip: Assignments returned %d entries, want 1", len(as))
	}
	check("Assignments", a, as[0])

	readDeliveries := func(ds []store.Delivery) {
		t.Helper()
		for _, d := range ds {
			got, err := s.Delivery(ctx, d.ID)
			e.must(err)
			check("Delivery", d, got)
			got, err = s.DeliveryByProviderID(ctx, d.ProviderID)
			e.must(err)
			check("DeliveryByProviderID", d, got)
		}
		for how, list := range map[string]func() ([]store.Delivery, error){
			"Deliveries": func() ([]store.Delivery, error) {
				return s.Deliveries(ctx, store.DeliveryQuery{MessageID: m.ID, Limit: 10})
			},
			"Sent":      func() ([]store.Delivery, error) { return s.Sent(ctx, store.SentQuery{Limit: 10}) },
			"Scheduled": func() ([]store.Delivery, error) { return s.Scheduled(ctx, ds[0].Anchor) },
		} {
			got, err := list()
			e.must(err)
			if len(got) != len(ds) {
				t.Fatalf("round trip: %s returned %d deliveries, want %d", how, len(got), len(ds))
			}
			for _, g := range got {
				i := slices.IndexFunc(ds, func(d store.Delivery) bool { return d.ID == g.ID })
				if i < 0 {
					t.Fatalf("round trip: %s returned delivery %q, not written", how, g.ID)
				}
				check(how, ds[i], g)
			}
		}
	}
	readDeliveries(ds)

	// an inbound message, every field filled, through MessageByProviderID
	var in store.Message
	f.fill(reflect.ValueOf(&in).Elem(), "Message")
	in.ThreadID, in.Direction, in.Counts = th.ID, store.Inbound, status.Counts{}
	e.must(s.WriteThread(ctx, store.ThreadWrite{Thread: th, Message: &in}))
	th.Version++
	for how, read := range map[string]func() (store.Message, error){
		"Message (inbound)":   func() (store.Message, error) { return s.Message(ctx, in.ID) },
		"MessageByProviderID": func() (store.Message, error) { return s.MessageByProviderID(ctx, in.ProviderID) },
	} {
		got, err := read()
		e.must(err)
		got.Counts = status.Counts{}
		check(how, in, got)
	}

	// WriteDelivery stores a delivery whose every changeable field holds a
	// new value (the provider ID too).
	for i := range ds {
		id, msg, thread, version := ds[i].ID, ds[i].MessageID, ds[i].ThreadID, ds[i].Version
		f.fill(reflect.ValueOf(&ds[i]).Elem(), "Delivery")
		ds[i].ID, ds[i].MessageID, ds[i].ThreadID, ds[i].Version = id, msg, thread, version
		validStatuses(&ds[i].Status, status.Scheduled)
		ds[i].Anchor = "anchor-" + th.ID
		e.must(s.WriteDelivery(ctx, ds[i]))
		ds[i].Version++
	}
	readDeliveries(ds)

	// ClaimDue returns the deliveries as stored, with the claim.
	now := f.next()
	for i := range ds {
		now = maxOf(now, ds[i].DueAt, ds[i].ClaimedUntil)
	}
	until := now.Add(time.Hour)
	claimed, err := s.ClaimDue(ctx, now, until, 10)
	e.must(err)
	if len(claimed) != len(ds) {
		t.Fatalf("round trip: ClaimDue claimed %d deliveries, want %d", len(claimed), len(ds))
	}
	for _, g := range claimed {
		i := slices.IndexFunc(ds, func(d store.Delivery) bool { return d.ID == g.ID })
		if i < 0 {
			t.Fatalf("round trip: ClaimDue returned delivery %q, not written", g.ID)
		}
		ds[i].ClaimedUntil = until
		ds[i].Version++
		check("ClaimDue", ds[i], g)
	}

	// Threads returns the listed fields too: a second thread that the list
	// shows (not dormant; archived, so under the archived filter).
	var listed store.Thread
	f.fill(reflect.ValueOf(&listed).Elem(), "Thread")
	listed.Subject.Kind, listed.Version, listed.Dormant, listed.Archived = store.Audience, 0, false, true
	listed.MutedUntil = time.Time{} // muted with no expiry: muted whatever the query's time
	e.must(s.WriteThread(ctx, store.ThreadWrite{Thread: listed}))
	listed.Version = 1
	page, err := s.Threads(ctx, store.ThreadQuery{Status: store.Archived, Limit: 10, Now: now})
	e.must(err)
	if len(page) != 1 {
		t.Fatalf("round trip: Threads returned %d threads, want 1", len(page))
	}
	check("Threads", listed, page[0])
	// an update of every field but the subject and the ID is stored too
	id, subject := listed.ID, listed.Subject
	f.fill(reflect.ValueOf(&listed).Elem(), "Thread")
	listed.ID, listed.Subject, listed.Version, listed.Dormant, listed.Archived, listed.MutedUntil = id, subject, 1, false, true, time.Time{}
	e.must(s.WriteThread(ctx, store.ThreadWrite{Thread: listed}))
	listed.Version = 2
	got, err = s.Thread(ctx, listed.ID)
	e.must(err)
	check("Thread after an update", listed, got)
}

// validStatuses makes a filled status record hold real statuses: current
// is the given one, the history's entries valid ones in event-time order.
func validStatuses(r *status.Record, current status.Status) {
	r.Current = current
	all := status.All()
	for i := range r.History {
		r.History[i].Status = all[(i+2)%len(all)]
	}
	slices.SortFunc(r.History, func(a, b status.Change) int { return a.At.Compare(b.At) })
}

func maxOf(ts ...time.Time) time.Time {
	var m time.Time
	for _, t := range ts {
		if t.After(m) {
			m = t
		}
	}
	return m
}

// filler fills values with distinct non-zero values: every string, number
// and time it writes is new; booleans are true; slices get two elements and
// maps one entry, each filled in turn.
type filler struct {
	n  int
	at time.Time
}

func (f *filler) next() time.Time {
	f.n++
	// microseconds, UTC: what every store keeps
	return f.at.Add(time.Duration(f.n)*time.Minute + time.Duration(f.n)*time.Microsecond).UTC()
}

var timeType = reflect.TypeFor[time.Time]()

// fill fills v, an addressable value whose path (for messages) is path.
// Fields listed in computed are left zero.
func (f *filler) fill(v reflect.Value, path string) {
	if slices.Contains(computed, path) {
		v.SetZero()
		return
	}
	if v.Type() == timeType {
		v.Set(reflect.ValueOf(f.next()))
		return
	}
	f.n++
	switch v.Kind() {
	case reflect.String:
		name := path[strings.LastIndexByte(path, '.')+1:]
		v.SetString(fmt.Sprintf("%s-%d", strings.ToLower(name), f.n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(f.n%100 + 1))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		v.SetUint(uint64(f.n%100 + 1))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(f.n) + 0.5)
	case reflect.Struct:
		for i := range v.NumField() {
			if sf := v.Type().Field(i); sf.IsExported() {
				f.fill(v.Field(i), path+"."+sf.Name)
			}
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			f.fill(s.Index(i), path+"[]")
		}
		v.Set(s)
	case reflect.Array:
		for i := range v.Len() {
			f.fill(v.Index(i), path+"[]")
		}
	case reflect.Map:
		m := reflect.MakeMapWithSize(v.Type(), 1)
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		f.fill(k, path+"[key]")
		f.fill(e, path+"[]")
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		f.fill(p.Elem(), path)
		v.Set(p)
	default:
		panic(fmt.Sprintf("storetest: round trip cannot fill %s (%s)", path, v.Type()))
	}
}

// diffValues lists the paths where got differs from want; times compare
// with Equal (stores do not keep locations).
func diffValues(path string, want, got reflect.Value) []string {
	if want.Type() == timeType {
		if w, g := want.Interface().(time.Time), got.Interface().(time.Time); !w.Equal(g) {
			return []string{fmt.Sprintf("%s: got %v, want %v", path, g, w)}
		}
		return nil
	}
	switch want.Kind() {
	case reflect.Struct:
		var out []string
		for i := range want.NumField() {
			if sf := want.Type().Field(i); sf.IsExported() {
				out = append(out, diffValues(path+"."+sf.Name, want.Field(i), got.Field(i))...)
			}
		}
		return out
	case reflect.Slice, reflect.Array:
		if want.Len() != got.Len() {
			return []string{fmt.Sprintf("%s: got %d elements, want %d", path, got.Len(), want.Len())}
		}
		var out []string
		for i := range want.Len() {
			out = append(out, diffValues(fmt.Sprintf("%s[%d]", path, i), want.Index(i), got.Index(i))...)
		}
		return out
	case reflect.Pointer:
		if want.IsNil() || got.IsNil() {
			if want.IsNil() != got.IsNil() {
				return []string{fmt.Sprintf("%s: got %v, want %v", path, got, want)}
			}
			return nil
		}
		return diffValues(path, want.Elem(), got.Elem())
	}
	if !reflect.DeepEqual(want.Interface(), got.Interface()) {
		return []string{fmt.Sprintf("%s: got %#v, want %#v", path, got.Interface(), want.Interface())}
	}
	return nil
}

// testMessageTimes checks ThreadWrite.Times: a stored message's
// ScheduledFor and SentAt change (a scheduled message moved or sent, C8,
// C15) and nothing else of it; times of a message of another thread fail
// with ErrNotFound and change nothing.
func testMessageTimes(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	th := e.start(contactSubject(helene))
	other := e.start(contactSubject(marc))
	due := e.clock.Now().Add(48 * time.Hour)
	m, _, err := e.in.RecordOutbound(e.ctx, inbox.Outgoing{ThreadID: th.ID, Message: inbox.Message{Kind: channel.SMS, Text: "later", ScheduledFor: due}})
	e.must(err)
	before, err := e.store.Message(e.ctx, m.ID)
	e.must(err)
	if !before.SentAt.IsZero() {
		t.Fatalf("C8: a scheduled message has no SentAt until it goes: %v", before.SentAt)
	}
	moved, sent := due.Add(24*time.Hour), due.Add(24*time.Hour+time.Second)
	cur := e.thread(th.ID)
	e.must(e.store.WriteThread(e.ctx, store.ThreadWrite{Thread: cur, Times: &store.MessageTimes{MessageID: m.ID, ScheduledFor: moved, SentAt: sent}}))
	got, err := e.store.Message(e.ctx, m.ID)
	e.must(err)
	want := before
	want.ScheduledFor, want.SentAt = moved, sent
	if diff := diffValues("Message", reflect.ValueOf(want), reflect.ValueOf(got)); len(diff) > 0 {
		t.Fatalf("message times: %v", diff)
	}
	page, err := e.store.Messages(e.ctx, store.MessageQuery{ThreadID: th.ID, Limit: 10})
	e.must(err)
	if len(page) != 1 || !page[0].SentAt.Equal(sent) || !page[0].ScheduledFor.Equal(moved) {
		t.Fatalf("message times through Messages: %+v", page)
	}
	// a message of another thread: not found, and the write changes nothing
	ot := e.thread(other.ID)
	err = e.store.WriteThread(e.ctx, store.ThreadWrite{Thread: ot, Times: &store.MessageTimes{MessageID: m.ID, SentAt: due}})
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("times of another thread's message: err = %v, want ErrNotFound", err)
	}
	if after := e.thread(other.ID); after.Version != ot.Version {
		t.Fatal("a failed times write changed the thread")
	}
	if got, _ := e.store.Message(e.ctx, m.ID); !got.SentAt.Equal(sent) {
		t.Fatal("a failed times write changed the message")
	}
}
