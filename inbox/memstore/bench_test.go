package memstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/inbox/store/textindex"
	"github.com/parleyhq/parley/status"
)

// The benchmark dataset: 1,000,000 threads and 3,000,000 messages, built
// once per run, only by benchmarks that need it.
const (
	benchThreads  = 1_000_000
	benchMessages = 3_000_000
)

type dataset struct {
	s              *memstore.Store
	now            time.Time
	agents         []string
	threadBytes    float64       // heap bytes per thread, without messages
	messageBytes   float64       // heap bytes per message beyond its text, without deliveries
	deliveryBytes  float64       // heap bytes per delivery
	allInBytes     float64       // heap bytes per message beyond its text, with its deliveries
	buildTime      time.Duration // without the collections that measure the heap
	measureTime    time.Duration // those collections
	someLastName   string
	someEmail      string
	somePhoneQuery string
	keyword        string
}

var (
	benchOnce sync.Once
	bench     *dataset
)

var (
	firstNames = []string{"Marie", "Jean", "Hélène", "Pierre", "Camille", "Louis", "Chloé", "Lucas", "Léa", "Hugo", "Manon", "Jules",
		"Emma", "Olivia", "Liam", "Noah", "Ava", "Sophia", "James", "Mason", "Isabella", "Ethan", "Mia", "Logan", "François", "Zoé"}
	lastNames = []string{"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon",
		"Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier", "Smith", "Johnson", "Williams",
		"Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson", "Taylor", "Tremblay", "Gagnon", "Roy", "Côté", "Bouchard", "Gauthier"}
	domains = []string{"gmail.com", "orange.fr", "free.fr", "yahoo.com", "outlook.com", "hotmail.fr", "icloud.com", "laposte.net"}
	vocab   = strings.Fields(`bonjour merci pour votre message je voudrais réserver un cours de yoga pilates demain matin soir
		à quelle heure est la séance est-ce que possible annuler déplacer mon rendez-vous semaine prochaine salle coach
		abonnement carte paiement facture reçu chambre réservation arrivée départ petit-déjeuner parking wifi code porte
		hello thanks for your booking see you tomorrow class spin boxing cancel reschedule membership locker towel pool
		spa massage late checkout early checkin room key breakfast included please confirm when available today tonight
		oui non peut-être parfait super génial désolé retard bientôt bonne journée à bientôt cordialement`)
)

func loadBench(b *testing.B) *dataset {
	b.Helper()
	benchOnce.Do(func() { bench = buildBench(b) })
	if bench == nil {
		b.Fatal("dataset build failed")
	}
	return bench
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func buildBench(b *testing.B) *dataset {
	ctx := context.Background()
	// Measured on a store of its own before the dataset exists, so that its
	// forced collections do not mark the whole dataset.
	deliveryBytes := deliveryCost(b)
	// The build makes much garbage on a growing heap: collect less often.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	start := time.Now()
	var measure time.Duration
	heapInUse := func() uint64 {
		t := time.Now()
		defer func() { measure += time.Since(t) }()
		return heapInUse()
	}
	rng := rand.New(rand.NewPCG(7, 11))
	d := &dataset{s: memstore.New(), now: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
	for i := range 10 {
		d.agents = append(d.agents, fmt.Sprintf("agent-%02d", i))
	}
	base := heapInUse()
	for i := range benchThreads {
		th := store.Thread{ID: fmt.Sprintf("th%07d", i)}
		created := d.now.Add(-time.Duration(rng.Int64N(int64(365 * 24 * time.Hour))))
		switch r := rng.IntN(10); {
		case r < 8:
			fn, ln := firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]
			phone := fmt.Sprintf("+336%08d", rng.IntN(100_000_000))
			if rng.IntN(3) == 0 {
				phone = fmt.Sprintf("+1%03d555%04d", 201+rng.IntN(700), rng.IntN(10000))
			}
			th.Subject = store.Subject{Kind: store.Contact, ID: fmt.Sprintf("c%07d", i)}
			th.Snapshot = store.Snapshot{FirstName: fn, LastName: ln, Phone: phone,
				Email: fmt.Sprintf("%s.%s%d@%s", strings.ToLower(fn), strings.ToLower(ln), rng.IntN(1000), domains[rng.IntN(len(domains))])}
		case r < 9:
			th.Subject = store.Subject{Kind: store.Audience, ID: fmt.Sprintf("a%07d", i)}
			th.Snapshot = store.Snapshot{Name: fmt.Sprintf("Membres %s %d", vocab[rng.IntN(len(vocab))], i)}
		default:
			th.Subject = store.Subject{Kind: store.Event, ID: fmt.Sprintf("e%07d", i)}
			th.Snapshot = store.Snapshot{Name: fmt.Sprintf("Cours de %s %d", vocab[rng.IntN(len(vocab))], i)}
		}
		th.CreatedAt, th.SortTime, th.LastActivityAt = created, created, created
		th.Favourite = rng.IntN(100) < 5
		th.Muted = rng.IntN(100) < 3
		if th.Muted && rng.IntN(2) == 0 {
			th.MutedUntil = d.now.Add(time.Duration(rng.IntN(48)-24) * time.Hour)
		}
		th.Archived = rng.IntN(100) < 10
		th.Closed = rng.IntN(100) < 20
		if rng.IntN(10) < 7 {
			th.Assignee = d.agents[rng.IntN(len(d.agents))]
		}
		if err := d.s.WriteThread(ctx, store.ThreadWrite{Thread: th}); err != nil {
			b.Fatal(err)
		}
	}
	afterThreads := heapInUse()
	d.threadBytes = float64(afterThreads-base) / benchThreads

	textBytes, deliveries := 0, 0
	var text strings.Builder
	for i := range benchMessages {
		id := fmt.Sprintf("th%07d", i%benchThreads)
		th, err := d.s.Thread(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		text.Reset()
		for text.Len() < 60+rng.IntN(60) {
			if text.Len() > 0 {
				text.WriteByte(' ')
			}
			text.WriteString(vocab[rng.IntN(len(vocab))])
		}
		at := th.LastActivityAt.Add(time.Duration(1+rng.IntN(3600)) * time.Second)
		m := &store.Message{ID: fmt.Sprintf("m%08d", i), ThreadID: id, Kind: channel.SMS, Text: text.String(), CreatedAt: at, SentAt: at,
			Identity: "+33700000000", Address: th.Snapshot.Phone}
		w := store.ThreadWrite{Message: m}
		if rng.IntN(2) == 0 {
			m.Direction = store.Inbound
			m.ProviderID = fmt.Sprintf("SM%032x", i)
			m.Unread = rng.IntN(100) < 1
		} else {
			m.Direction, m.Origin = store.Outbound, store.Direct
			m.Author = store.Author{Agent: d.agents[rng.IntN(len(d.agents))]}
			m.SMS = store.SMSInfo{Encoding: "GSM-7", Segments: 1, Units: len(m.Text)}
			m.Recipients = 1
			w.Deliveries = []store.Delivery{{ID: "d" + m.ID[1:], MessageID: m.ID, ThreadID: id, Kind: channel.SMS, Address: m.Address,
				ProviderID: fmt.Sprintf("SM%032x", i), CreatedAt: at,
				Status: status.Record{Current: status.Delivered, History: []status.Change{{Status: status.Delivered, At: at}}}}}
			deliveries++
		}
		textBytes += len(m.Text)
		th.SortTime, th.LastMessageAt, th.LastActivityAt = at, at, at
		th.Messages++
		th.Preview = m.Text[:min(len(m.Text), 40)]
		if m.Unread {
			th.Unread++
		}
		w.Thread = th
		if err := d.s.WriteThread(ctx, w); err != nil {
			b.Fatal(err)
		}
		if i == 12345 {
			d.keyword = vocab[rng.IntN(len(vocab))]
		}
	}
	d.allInBytes = float64(int(heapInUse()-afterThreads)-textBytes) / benchMessages
	d.deliveryBytes = deliveryBytes
	d.messageBytes = d.allInBytes - d.deliveryBytes*float64(deliveries)/benchMessages
	d.measureTime = measure
	d.buildTime = time.Since(start) - measure
	some, _ := d.s.Thread(ctx, "th0000042")
	for i := 43; some.Subject.Kind != store.Contact; i++ {
		some, _ = d.s.Thread(ctx, fmt.Sprintf("th%07d", i))
	}
	d.someLastName = some.Snapshot.LastName
	d.someEmail = some.Snapshot.Email[:len(some.Snapshot.Email)-4]
	d.somePhoneQuery = textindex.PhoneForms(some.Snapshot.Phone)[2]
	b.Logf("dataset: %d threads, %d messages built in %v (and %v of collections measuring the heap)", benchThreads, benchMessages,
		d.buildTime.Round(time.Millisecond), d.measureTime.Round(time.Millisecond))
	return d
}

// deliveryCost returns the heap one delivery takes, measured on a store of
// its own: the same outbound messages written without, then with, one
// delivery each.
func deliveryCost(b *testing.B) float64 {
	const n = 200_000
	ctx := context.Background()
	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	var grow [2]float64
	for with := range 2 {
		s := memstore.New()
		th := store.Thread{ID: "t", Subject: store.Subject{Kind: store.Contact, ID: "c"}, CreatedAt: at, SortTime: at, LastActivityAt: at}
		if err := s.WriteThread(ctx, store.ThreadWrite{Thread: th}); err != nil {
			b.Fatal(err)
		}
		th.Version = 1
		ids := make([]string, n) // built before measuring: both runs keep them
		for i := range ids {
			ids[i] = fmt.Sprintf("m%08d-%d", i, with)
		}
		base := heapInUse()
		for i := range n {
			m := &store.Message{ID: ids[i], ThreadID: "t", Direction: store.Outbound, Origin: store.Direct, Kind: channel.SMS,
				Text: "hello", CreatedAt: at, SentAt: at, Address: "+33612345678", Recipients: 1}
			w := store.ThreadWrite{Thread: th, Message: m}
			if with == 1 {
				// IDs made here, as the dataset makes them, count for the delivery.
				w.Deliveries = []store.Delivery{{ID: "d" + m.ID[1:], MessageID: m.ID, ThreadID: "t", Kind: channel.SMS, Address: m.Address,
					ProviderID: fmt.Sprintf("SM%032x", i), CreatedAt: at,
					Status: status.Record{Current: status.Delivered, History: []status.Change{{Status: status.Delivered, At: at}}}}}
			}
			if err := s.WriteThread(ctx, w); err != nil {
				b.Fatal(err)
			}
			th.Version++
		}
		grow[with] = float64(heapInUse() - base)
		runtime.KeepAlive(s)
	}
	return (grow[1] - grow[0]) / n
}

// T3, T11, T12: the first page of every combination of the list filters;
// reports the worst combination's time per query.
func BenchmarkThreadsFirstPage(b *testing.B) {
	d := loadBench(b)
	ctx := context.Background()
	var qs []store.ThreadQuery
	for st := store.All; st <= store.Archived; st++ {
		for lc := store.AnyLifecycle; lc <= store.Closed; lc++ {
			for cat := store.SubjectKind(0); cat <= store.Event; cat++ {
				for a := range 3 {
					q := store.ThreadQuery{Status: st, Lifecycle: lc, Category: cat, Now: d.now, Limit: 50}
					switch a {
					case 1:
						q.Unassigned = true
					case 2:
						q.Assignee = d.agents[3]
					}
					qs = append(qs, q)
				}
			}
		}
	}
	worst := make([]time.Duration, len(qs))
	var total time.Duration
	b.ResetTimer()
	for b.Loop() {
		for i, q := range qs {
			t := time.Now()
			page, err := d.s.Threads(ctx, q)
			el := time.Since(t)
			if err != nil || len(page) == 0 {
				b.Fatalf("query %+v: %d threads, %v", q, len(page), err)
			}
			worst[i] = max(worst[i], el)
			total += el
		}
	}
	i := slices.Index(worst, slices.Max(worst))
	b.ReportMetric(float64(slices.Max(worst).Nanoseconds())/1e3, "worst-µs/query")
	b.ReportMetric(float64(total.Nanoseconds())/1e3/float64(b.N*len(qs)), "mean-µs/query")
	b.Logf("%d combinations; slowest: %+v", len(qs), qs[i])
}

func benchSearch(b *testing.B, query string) {
	d := loadBench(b)
	ctx := context.Background()
	q := store.ThreadQuery{Search: textindex.ParseQuery(query), Now: d.now, Limit: 50}
	n := 0
	for b.Loop() {
		page, err := d.s.Threads(ctx, q)
		if err != nil || len(page) == 0 {
			b.Fatalf("search %q: %d threads, %v", query, len(page), err)
		}
		n = len(page)
	}
	b.ReportMetric(float64(n), "threads/page")
}

// T13: search by name, email and phone, first page.
func BenchmarkSearchName(b *testing.B)  { benchSearch(b, loadBench(b).someLastName) }
func BenchmarkSearchEmail(b *testing.B) { benchSearch(b, loadBench(b).someEmail) }
func BenchmarkSearchPhone(b *testing.B) { benchSearch(b, loadBench(b).somePhoneQuery) }

// BenchmarkSearchFirstName searches the most frequent kind of term: a
// first name shared by about 3 % of the contacts.
func BenchmarkSearchFirstName(b *testing.B) { benchSearch(b, "marie") }

// T13: keyword search over message text.
func BenchmarkSearchKeyword(b *testing.B) { benchSearch(b, loadBench(b).keyword) }

// BenchmarkSearchTwoKeywords: two words of one message.
func BenchmarkSearchTwoKeywords(b *testing.B) { benchSearch(b, "yoga demain") }

// M5, T4, T5: WriteThread appending one inbound message to an existing
// thread (the thread is read before the timer starts, as the inbox does).
func BenchmarkWriteThreadInbound(b *testing.B) {
	d := loadBench(b)
	ctx := context.Background()
	n := b.N
	writes := make([]store.ThreadWrite, n)
	for i := range writes {
		id := fmt.Sprintf("th%07d", (i*7919+b.N)%benchThreads)
		th, err := d.s.Thread(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		at := d.now.Add(time.Duration(i) * time.Millisecond)
		text := "Bonjour, est-ce que je peux déplacer mon cours de yoga à demain soir ? Merci beaucoup"
		th.SortTime, th.LastMessageAt, th.LastActivityAt, th.LastInboundAt = at, at, at, at
		th.Unread++
		th.Messages++
		th.Archived, th.Closed = false, false
		th.Preview = text[:40]
		writes[i] = store.ThreadWrite{Thread: th, Message: &store.Message{ID: fmt.Sprintf("bench-%d-%d", b.N, i), ThreadID: id,
			Direction: store.Inbound, Kind: channel.SMS, Text: text, CreatedAt: at, SentAt: at, Unread: true,
			ProviderID: fmt.Sprintf("SMbench%d-%d", b.N, i), Identity: "+33700000000", Address: th.Snapshot.Phone}}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range n {
		if err := d.s.WriteThread(ctx, writes[i]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMemory reports the heap the dataset takes: per thread (without
// messages), per message beyond its text without its deliveries (the
// target), per delivery, and per message with its deliveries; and the time
// the build took (with the garbage collector at 400 % for the build only),
// apart from the forced collections that measure the heap.
func BenchmarkMemory(b *testing.B) {
	d := loadBench(b)
	for b.Loop() {
	}
	b.ReportMetric(d.threadBytes, "B/thread")
	b.ReportMetric(d.messageBytes, "B/message")
	b.ReportMetric(d.deliveryBytes, "B/delivery")
	b.ReportMetric(d.allInBytes, "B/message+deliveries")
	b.ReportMetric(d.buildTime.Seconds(), "build-s")
	b.ReportMetric(d.measureTime.Seconds(), "heap-measure-s")
}
