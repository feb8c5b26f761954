package inbox_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/channeltest"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/recipient"
	"github.com/parleyhq/parley/status"
	ptemplate "github.com/parleyhq/parley/template"
)

func benchInbox(b *testing.B, dir *memstore.Directory, reg *channel.Registry) *inbox.Inbox {
	b.Helper()
	now := t0
	in, err := inbox.New(memstore.New(), inbox.Options{Directory: dir, Channels: reg,
		Now: func() time.Time { return now }, NewID: countingIDs()})
	if err != nil {
		b.Fatal(err)
	}
	return in
}

// countingIDs returns an ID generator for an inbox under measurement: "id1",
// "id2", … with one allocation per ID, as a real generator makes
// (fmt.Sprintf made one and a half, "id" + strconv.Itoa two, counted as
// the inbox's).
func countingIDs() func() string {
	n := 0
	var id []byte
	return func() string {
		n++
		id = strconv.AppendInt(append(id[:0], "id"...), int64(n), 10)
		return string(id)
	}
}

func phone(i int) string { return fmt.Sprintf("+3361%07d", i) }

// BenchmarkReceive measures receiving an inbound SMS into an existing
// thread of an inbox holding 100,000 and 1,000,000 contact threads (T4, T5,
// M5). Beside ns/op it reports cpu-ns/op, the processor time of the whole
// process per receive (the collector's included: on a shared machine the
// wall clock also counts waiting for a core), and store-ns/op, the part of
// the wall-clock time spent in the store's WriteThread. Each size's inbox
// is seeded once per process (the testing package calls a benchmark more
// than once: seeding 1,000,000 threads each time cost minutes). The
// inbox's clock moves a microsecond each time it is read.
func BenchmarkReceive(b *testing.B) {
	for _, threads := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("threads=%dk", threads/1000), func(b *testing.B) { benchReceive(b, threads) })
	}
}

// timedStore is a store whose WriteThread calls are timed.
type timedStore struct {
	store.Store
	writes time.Duration
}

func (s *timedStore) WriteThread(ctx context.Context, w store.ThreadWrite) error {
	t := time.Now()
	err := s.Store.WriteThread(ctx, w)
	s.writes += time.Since(t)
	return err
}

// receiveSet is an inbox seeded with one thread per contact, and the
// receives made so far (their provider IDs must be new).
type receiveSet struct {
	in       *inbox.Inbox
	st       *timedStore
	received int
}

var receiveSets = map[int]*receiveSet{}

// receiveInbox returns the inbox of threads contact threads, seeding it
// on first use.
func receiveInbox(b *testing.B, threads int) *receiveSet {
	if set := receiveSets[threads]; set != nil {
		return set
	}
	// The seeding makes much garbage on a growing heap: collect less often.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	dir := memstore.NewDirectory()
	for i := range threads {
		_ = dir.PutContact(recipient.Contact{ID: fmt.Sprintf("c%d", i), FirstName: "Marie", LastName: fmt.Sprintf("Martin%d", i), Phone: phone(i)})
	}
	st := &timedStore{Store: memstore.New()}
	// The clock moves a microsecond each time it is read, as messages
	// arrive at their own times: with one fixed time, every new message
	// tied with its thread's last and was ordered by reading that
	// message's record, which a real inbox seldom does.
	now := t0
	in, err := inbox.New(st, inbox.Options{Directory: dir, Now: func() time.Time { now = now.Add(time.Microsecond); return now },
		NewID: countingIDs()})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for i := range threads {
		if _, err := in.ReceiveMessage(ctx, channel.Inbound{Kind: channel.SMS, From: phone(i), Text: "Bonjour, je voudrais réserver", ProviderID: fmt.Sprintf("seed%d", i)}); err != nil {
			b.Fatal(err)
		}
	}
	set := &receiveSet{in: in, st: st}
	receiveSets[threads] = set
	return set
}

func benchReceive(b *testing.B, threads int) {
	set := receiveInbox(b, threads)
	in, st := set.in, set.st
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, uint64(set.received)))
	pids := make([]string, b.N)
	froms := make([]string, b.N)
	for i := range pids {
		pids[i] = fmt.Sprintf("SM%d", set.received+i)
		froms[i] = phone(rng.IntN(threads))
	}
	set.received += b.N
	st.writes = 0
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, err := in.ReceiveMessage(ctx, channel.Inbound{Kind: channel.SMS, From: froms[i], Text: "Is there parking near the studio?", ProviderID: pids[i]}); err != nil {
			b.Fatal(err)
		}
	}
	if used := cpuTime() - cpu; used > 0 {
		b.ReportMetric(float64(used.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
	b.ReportMetric(float64(st.writes.Nanoseconds())/float64(b.N), "store-ns/op")
}

// BenchmarkBroadcast sends one message to an audience of 100,000 members
// through a fake channel with no latency, end to end (render, eligibility,
// send, record), and reports, over every iteration: deliveries per second,
// processor time, allocations and bytes allocated per delivery; beside
// them, from the same iterations, the floor: as many bare sends through
// the same fake channel, with the inbox's default concurrency.
func BenchmarkBroadcast(b *testing.B) {
	const members = 100_000
	dir := memstore.NewDirectory()
	cs := make([]recipient.Contact, members)
	for i := range cs {
		cs[i] = recipient.Contact{ID: fmt.Sprintf("c%d", i), FirstName: "Marie", Phone: phone(i)}
	}
	dir.PutAudience(store.AudienceInfo{ID: "all", Name: "All members", Members: cs})
	ctx := context.Background()
	var run, floor measured
	for range b.N {
		b.StopTimer()
		fake := channeltest.NewFake(channel.SMS, channeltest.Options{Statuses: []status.Status{}})
		reg := channel.NewRegistry()
		_ = reg.Register(channel.SMS, fake, channel.Config{})
		in := benchInbox(b, dir, reg)
		th, err := in.Start(ctx, store.Subject{Kind: store.Audience, ID: "all"})
		if err != nil {
			b.Fatal(err)
		}
		var res inbox.SendResult
		run.add(b, func() {
			res, err = in.Send(ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "Studio closed on Monday for maintenance."})
		})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Deliveries) != members {
			b.Fatalf("%d deliveries", len(res.Deliveries))
		}
		floor.add(b, func() { fakeSends(b, members, 16) })
	}
	run.report(b, members, "deliveries/s", "delivery")
	floor.report(b, members, "floor-sends/s", "floor-send")
}

// measured sums wall-clock time, processor time and allocations over the
// runs of a benchmark.
type measured struct {
	wall, cpu     time.Duration
	allocs, bytes uint64
	runs          int
}

// add runs fn with the timer on and adds what it took.
func (m *measured) add(b *testing.B, fn func()) {
	b.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.StartTimer()
	start, cpu := time.Now(), cpuTime()
	fn()
	m.wall += time.Since(start)
	m.cpu += cpuTime() - cpu
	b.StopTimer()
	runtime.ReadMemStats(&after)
	m.allocs += after.Mallocs - before.Mallocs
	m.bytes += after.TotalAlloc - before.TotalAlloc
	m.runs++
}

// report reports the rate of n items per run (unit), and each item's
// processor time and allocations (per).
func (m *measured) report(b *testing.B, n int, unit, per string) {
	items := float64(n * m.runs)
	b.ReportMetric(items/m.wall.Seconds(), unit)
	b.ReportMetric(float64(m.cpu.Nanoseconds())/items, "cpu-ns/"+per)
	b.ReportMetric(float64(m.allocs)/items, "allocs/"+per)
	b.ReportMetric(float64(m.bytes)/items, "B/"+per)
}

// fakeSends sends n messages through a fresh fake channel from workers
// goroutines, as a fan-out does: the floor of a broadcast.
func fakeSends(b *testing.B, n, workers int) {
	fake := channeltest.NewFake(channel.SMS, channeltest.Options{Statuses: []status.Status{}})
	msg := &channel.Message{Kind: channel.SMS, To: "+33612345678", Text: "Studio closed on Monday for maintenance."}
	ctx := context.Background()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				if _, err := fake.Send(ctx, msg); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkBroadcastMemory reports the memory a 100,000-recipient broadcast
// keeps in the inbox and memstore per delivery, sent through a sender that
// keeps nothing (the fake channel's own record of every send would
// otherwise count).
func BenchmarkBroadcastMemory(b *testing.B) {
	const members = 100_000
	dir := memstore.NewDirectory()
	cs := make([]recipient.Contact, members)
	for i := range cs {
		cs[i] = recipient.Contact{ID: fmt.Sprintf("c%d", i), FirstName: "Marie", Phone: phone(i)}
	}
	dir.PutAudience(store.AudienceInfo{ID: "all", Name: "All members", Members: cs})
	ctx := context.Background()
	var n atomic.Int64
	sender := channel.SenderFunc(func(ctx context.Context, m *channel.Message) (channel.Receipt, error) {
		return channel.Receipt{ProviderID: "P" + strconv.FormatInt(n.Add(1), 10), Status: status.Validated}, nil
	})
	for range b.N {
		reg := channel.NewRegistry()
		_ = reg.Register(channel.SMS, sender, channel.Config{})
		in := benchInbox(b, dir, reg)
		th, _ := in.Start(ctx, store.Subject{Kind: store.Audience, ID: "all"})
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		if _, err := in.Send(ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "Studio closed on Monday for maintenance."}); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(in)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/members, "B/delivery")
	}
}

// BenchmarkFakeSend is the baseline of BenchmarkBroadcast: the bare fake
// channel call.
func BenchmarkFakeSend(b *testing.B) {
	fake := channeltest.NewFake(channel.SMS, channeltest.Options{Statuses: []status.Status{}})
	msg := &channel.Message{Kind: channel.SMS, To: "+33612345678", Text: "Studio closed on Monday for maintenance."}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := fake.Send(ctx, msg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStatusUpdates applies 1,000,000 shuffled and duplicated status
// updates (250,000 deliveries × sent, delivered × 2) and reports, over every
// iteration, updates per second, processor time and allocations per update
// (S2); beside them the floor: the same updates merged into a map of each
// provider ID's highest status.
//
// It runs twice, with the same updates in the same order. "decoded": each
// update's provider ID is a string of its own, laid out in memory in the
// order the updates arrive, as a webhook server holds the ID it has just
// decoded from a request. "sent": the updates share the provider ID
// strings the fake channel made when it sent, laid out in sending order
// and read in the shuffled order, so that each update starts with a cache
// miss on its own input, which a server does not pay (the only form of
// this benchmark before issue 18's fifth round).
func BenchmarkStatusUpdates(b *testing.B) { benchStatusInputs(b, 1) }

// BenchmarkStatusUpdatesParallel is BenchmarkStatusUpdates with the updates
// applied from GOMAXPROCS goroutines, as webhooks arrive (each takes the
// next 64 updates in turn), beside the same floor.
func BenchmarkStatusUpdatesParallel(b *testing.B) { benchStatusInputs(b, runtime.GOMAXPROCS(0)) }

func benchStatusInputs(b *testing.B, workers int) {
	b.Run("decoded", func(b *testing.B) { benchStatusUpdates(b, workers, true) })
	b.Run("sent", func(b *testing.B) { benchStatusUpdates(b, workers, false) })
}

func benchStatusUpdates(b *testing.B, workers int, decoded bool) {
	const members = 250_000
	dir := memstore.NewDirectory()
	cs := make([]recipient.Contact, members)
	for i := range cs {
		cs[i] = recipient.Contact{ID: fmt.Sprintf("c%d", i), Phone: phone(i)}
	}
	dir.PutAudience(store.AudienceInfo{ID: "all", Name: "All", Members: cs})
	ctx := context.Background()
	var run, floor measured
	n := 0
	for range b.N {
		b.StopTimer()
		fake := channeltest.NewFake(channel.SMS, channeltest.Options{})
		reg := channel.NewRegistry()
		_ = reg.Register(channel.SMS, fake, channel.Config{})
		in := benchInbox(b, dir, reg)
		th, _ := in.Start(ctx, store.Subject{Kind: store.Audience, ID: "all"})
		if _, err := in.Send(ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "x"}); err != nil {
			b.Fatal(err)
		}
		var updates []channel.StatusUpdate
		fake.OnStatus(func(u channel.StatusUpdate) { updates = append(updates, u) })
		fake.FlushShuffled(5, true)
		if decoded {
			for i := range updates {
				updates[i].ProviderID = strings.Clone(updates[i].ProviderID)
			}
		}
		n = len(updates)
		run.add(b, func() {
			if workers == 1 {
				for _, u := range updates {
					if err := in.ApplyStatus(ctx, u); err != nil {
						b.Fatal(err)
					}
				}
				return
			}
			const chunk = 64
			var next atomic.Int64
			var wg sync.WaitGroup
			for range workers {
				wg.Go(func() {
					for {
						end := int(next.Add(chunk))
						if end-chunk >= len(updates) {
							return
						}
						for _, u := range updates[end-chunk : min(end, len(updates))] {
							if err := in.ApplyStatus(ctx, u); err != nil {
								b.Error(err)
								return
							}
						}
					}
				})
			}
			wg.Wait()
		})
		floor.add(b, func() {
			m := make(map[string]status.Status, members)
			for _, u := range updates {
				if cur, ok := m[u.ProviderID]; !ok || u.Status.Rank() > cur.Rank() {
					m[u.ProviderID] = u.Status
				}
			}
			if len(m) != members {
				b.Fatalf("%d provider IDs", len(m))
			}
		})
	}
	run.report(b, n, "updates/s", "update")
	floor.report(b, n, "floor-updates/s", "floor-update")
}

// BenchmarkPreflight100k preflights a template to an audience of 100,000
// members: eligibility, one rendering per recipient, SMS measurement of
// each rendered text and a cost estimate per recipient (C5, C6, C13, C14).
// "distinct" gives every member their own first name, so that no two
// renderings are shared; "common" draws first names from a short list, as
// real audiences do. cpu-ms/op is the CPU time of a preflight on every
// core, which on a busy machine is the truer figure.
func BenchmarkPreflight100k(b *testing.B) {
	for _, c := range []struct {
		name  string
		first func(i int) string
	}{
		{"distinct", func(i int) string { return "Marie-" + strconv.Itoa(i) }},
		{"common", func(i int) string { return []string{"Marie", "Jean-Baptiste", "Zoé", "Inès 🌸", "Léa"}[i%5] }},
	} {
		b.Run(c.name, func(b *testing.B) { benchPreflight(b, c.first) })
	}
}

func benchPreflight(b *testing.B, first func(i int) string) {
	const members = 100_000
	dir := memstore.NewDirectory()
	cs := make([]recipient.Contact, members)
	for i := range cs {
		cs[i] = recipient.Contact{ID: fmt.Sprintf("c%d", i), FirstName: first(i), LastName: "Martin", Phone: phone(i)}
	}
	dir.PutAudience(store.AudienceInfo{ID: "all", Name: "All members", Members: cs})
	reg := channel.NewRegistry()
	_ = reg.Register(channel.SMS, channeltest.NewFake(channel.SMS, channeltest.Options{}), channel.Config{})
	n := 0
	in, err := inbox.New(memstore.New(), inbox.Options{Directory: dir, Channels: reg, Now: func() time.Time { return t0 },
		NewID:  func() string { n++; return fmt.Sprintf("id%09d", n) },
		Prices: &inbox.Prices{Currency: "EUR", SMS: map[string]int64{"33": 72_000, "*": 95_000}}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	th, err := in.Start(ctx, store.Subject{Kind: store.Audience, ID: "all"})
	if err != nil {
		b.Fatal(err)
	}
	tpl, err := ptemplate.Parse(ptemplate.NewCatalog(), ptemplate.Source{Name: "promo",
		Text: "Hi {{ .Contact.FirstName }}, our spring offer: -20 % on every class pack booked before Sunday. See you soon at {{ .Audience.Name }}!"}, ptemplate.Options{})
	if err != nil {
		b.Fatal(err)
	}
	d := inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Template: tpl}
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		p, err := in.Preflight(ctx, d)
		if err != nil {
			b.Fatal(err)
		}
		if p.Selected != members || p.Err() != nil || p.MaxSegments < 1 {
			for _, rc := range p.Recipients {
				if rc.Problem != nil {
					b.Log(rc.ContactID, rc.Problem)
				}
			}
			b.Fatalf("selected %d, max segments %d: %v", p.Selected, p.MaxSegments, p.Err())
		}
	}
	if used := cpuTime() - cpu; used > 0 {
		b.ReportMetric(float64(used.Milliseconds())/float64(b.N), "cpu-ms/op")
	}
}
