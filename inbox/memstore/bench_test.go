package memstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	runtimemetrics "runtime/metrics"
	"slices"
	"strconv"
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

// The benchmark datasets: threads threads and three messages per thread,
// built once per size per run, only by the benchmarks that need them.
// Search benchmarks run at sizes 10k, 100k and 1M so that growth shows;
// the others at 1M.
const (
	benchThreads      = 1_000_000
	messagesPerThread = 3
)

var benchSizes = []int{10_000, 100_000, 1_000_000}

func sizeName(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("threads=%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("threads=%dk", n/1000)
	}
	return fmt.Sprintf("threads=%d", n)
}

type dataset struct {
	s              *memstore.Store
	threads        int
	now            time.Time
	agents         []string
	threadBytes    float64       // heap bytes per thread, without messages
	messageBytes   float64       // heap bytes per message beyond its text, without deliveries
	deliveryBytes  float64       // heap bytes per delivery
	allInBytes     float64       // heap bytes per message beyond its text, with its deliveries
	buildTime      time.Duration // without the collections that measure the heap
	buildCPU       time.Duration // the processor time of the build, every thread, without those collections
	measureTime    time.Duration // those collections
	someLastName   string
	someEmail      string
	somePhoneQuery string
	keyword        string
}

// setKey names a dataset: its size, and whether its store has the list
// index the store had before (memstore.UseBTreeLists), the baseline of
// the write and build benchmarks.
type setKey struct {
	threads int
	base    bool
	chrono  bool // written in time order: see BenchmarkBuildChronological
}

var (
	benchMu       sync.Mutex
	benchSets     = map[setKey]*dataset{}
	deliveryBytes float64 // see deliveryCost
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

// loadBench returns the dataset of 1M threads.
func loadBench(b *testing.B) *dataset { return loadSized(b, benchThreads) }

// loadSized returns the dataset of n threads, building it on first use.
func loadSized(b *testing.B, n int) *dataset { return loadSet(b, setKey{threads: n}) }

// loadBase returns the dataset of n threads in a store with the list index
// the store had before, building it on first use. Build it after the
// dataset of the same size (loadSized): the heap then holds that one, so
// that the baseline's build meets fewer collections, to its advantage.
func loadBase(b *testing.B, n int) *dataset { return loadSet(b, setKey{threads: n, base: true}) }

func loadSet(b *testing.B, k setKey) *dataset {
	b.Helper()
	benchMu.Lock()
	defer benchMu.Unlock()
	d, ok := benchSets[k]
	if !ok {
		d = buildBench(b, k)
		benchSets[k] = d
	}
	if d == nil {
		b.Fatal("dataset build failed")
	}
	return d
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// appendNum appends n to dst in decimal, zero-padded to width digits.
func appendNum(dst []byte, n, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for n > 0 || i > len(buf)-width {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	return append(dst, buf[i:]...)
}

// ids makes the IDs of the dataset without fmt: prefix and a zero-padded
// number.
func idOf(prefix string, n, width int) string {
	var b [32]byte
	return string(appendNum(append(b[:0], prefix...), n, width))
}

// buildBench builds a dataset; base: in a store with the list index the
// store had before, without measuring the heap (a collection then marks
// every dataset built before).
//
// The threads are created in the order of their numbers, then their
// messages are written a round at a time: one message to every thread,
// then a second, then a third; with chrono, the same threads and messages
// are written in the order of their times, as an inbox receives them.
func buildBench(b *testing.B, k setKey) *dataset {
	threads, baseline := k.threads, k.base
	ctx := context.Background()
	messages := messagesPerThread * threads
	// Measured on a store of its own before the dataset exists, so that its
	// forced collections do not mark the whole dataset; once per run.
	if deliveryBytes == 0 {
		deliveryBytes = deliveryCost(b)
	}
	// The build makes much garbage on a growing heap: collect less often.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	clk := newCPUClock()
	defer clk.release()
	start, startCPU := time.Now(), clk.process()
	var measure, measureCPU time.Duration
	heapInUse := func() uint64 {
		if baseline {
			return 0
		}
		t, c := time.Now(), clk.process()
		defer func() { measure, measureCPU = measure+time.Since(t), measureCPU+clk.process()-c }()
		return heapInUse()
	}
	rng := rand.New(rand.NewPCG(7, 11))
	d := &dataset{s: memstore.New(), threads: threads, now: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
	if baseline {
		memstore.UseBTreeLists(d.s)
	}
	for i := range 10 {
		d.agents = append(d.agents, fmt.Sprintf("agent-%02d", i))
	}
	base := heapInUse()
	var (
		buf     []byte
		pending []store.Thread // with chrono: written once all are made
	)
	for i := range threads {
		th := store.Thread{ID: idOf("th", i, 7)}
		created := d.now.Add(-time.Duration(rng.Int64N(int64(365 * 24 * time.Hour))))
		switch r := rng.IntN(10); {
		case r < 8:
			fn, ln := firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]
			buf = appendNum(append(buf[:0], "+336"...), rng.IntN(100_000_000), 8)
			if rng.IntN(3) == 0 {
				buf = appendNum(appendNum(append(buf[:0], "+1"...), 201+rng.IntN(700), 3), 5550000+rng.IntN(10000), 7)
			}
			phone := string(buf)
			buf = append(buf[:0], strings.ToLower(fn)...)
			buf = append(append(buf, '.'), strings.ToLower(ln)...)
			buf = append(appendNum(buf, rng.IntN(1000), 1), '@')
			buf = append(buf, domains[rng.IntN(len(domains))]...)
			th.Subject = store.Subject{Kind: store.Contact, ID: idOf("c", i, 7)}
			th.Snapshot = store.Snapshot{FirstName: fn, LastName: ln, Phone: phone, Email: string(buf)}
		case r < 9:
			th.Subject = store.Subject{Kind: store.Audience, ID: idOf("a", i, 7)}
			th.Snapshot = store.Snapshot{Name: "Membres " + vocab[rng.IntN(len(vocab))] + " " + strconv.Itoa(i)}
		default:
			th.Subject = store.Subject{Kind: store.Event, ID: idOf("e", i, 7)}
			th.Snapshot = store.Snapshot{Name: "Cours de " + vocab[rng.IntN(len(vocab))] + " " + strconv.Itoa(i)}
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
		if k.chrono {
			pending = append(pending, th)
			continue
		}
		if err := d.s.WriteThread(ctx, store.ThreadWrite{Thread: th}); err != nil {
			b.Fatal(err)
		}
	}
	if k.chrono {
		slices.SortStableFunc(pending, func(a, b store.Thread) int { return a.CreatedAt.Compare(b.CreatedAt) })
		for _, th := range pending {
			if err := d.s.WriteThread(ctx, store.ThreadWrite{Thread: th}); err != nil {
				b.Fatal(err)
			}
		}
		pending = nil
	}
	afterThreads := heapInUse()
	d.threadBytes = float64(afterThreads-base) / float64(threads)

	textBytes, deliveries := 0, 0
	threadIDs := make([]string, threads) // kept by the dataset anyway: measured apart from the messages
	for i := range threadIDs {
		threadIDs[i] = idOf("th", i, 7)
	}
	afterThreads = heapInUse()
	// One message value serves every write: the store copies what it keeps
	// (newMsgRec), and a message allocated per write (600 bytes, 3 million
	// times at 1M) made the build's garbage.
	var (
		msg  store.Message
		del  [1]store.Delivery
		hist [1]status.Change
	)
	// With chrono, each message is first drawn as in the rounds (the same
	// random numbers in the same order) into specs, from the time of its
	// thread's previous message, then written in the order of the times.
	type msgSpec struct {
		i       int
		at      time.Time
		text    string
		inbound bool
		unread  bool
		agent   int
	}
	var (
		specs []msgSpec
		last  []time.Time // by thread: the latest activity drawn
	)
	if k.chrono {
		specs = make([]msgSpec, 0, messages)
		last = make([]time.Time, threads)
		for t := range last {
			th, err := d.s.Thread(ctx, threadIDs[t])
			if err != nil {
				b.Fatal(err)
			}
			last[t] = th.LastActivityAt
		}
		for i := range messages {
			buf = buf[:0]
			for len(buf) < 60+rng.IntN(60) {
				if len(buf) > 0 {
					buf = append(buf, ' ')
				}
				buf = append(buf, vocab[rng.IntN(len(vocab))]...)
			}
			sp := msgSpec{i: i, text: string(buf), at: last[i%threads].Add(time.Duration(1+rng.IntN(3600)) * time.Second)}
			last[i%threads] = sp.at
			if rng.IntN(2) == 0 {
				sp.inbound, sp.unread = true, rng.IntN(100) < 1
			} else {
				sp.agent = rng.IntN(len(d.agents))
			}
			if i == 12345%messages {
				d.keyword = vocab[rng.IntN(len(vocab))]
			}
			specs = append(specs, sp)
		}
		last = nil
		slices.SortStableFunc(specs, func(a, b msgSpec) int { return a.at.Compare(b.at) })
	}
	for n := range messages {
		i := n
		var sp *msgSpec
		if k.chrono {
			sp = &specs[n]
			i = sp.i
		}
		id := threadIDs[i%threads]
		th, err := d.s.Thread(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		var (
			text    string
			at      time.Time
			inbound bool
		)
		if sp != nil {
			text, at, inbound = sp.text, sp.at, sp.inbound
			sp.text = "" // the store keeps its own copy
		} else {
			buf = buf[:0]
			for len(buf) < 60+rng.IntN(60) {
				if len(buf) > 0 {
					buf = append(buf, ' ')
				}
				buf = append(buf, vocab[rng.IntN(len(vocab))]...)
			}
			text = string(buf)
			at = th.LastActivityAt.Add(time.Duration(1+rng.IntN(3600)) * time.Second)
			inbound = rng.IntN(2) == 0
		}
		m := &msg
		*m = store.Message{ID: idOf("m", i, 8), ThreadID: id, Kind: channel.SMS, Text: text, CreatedAt: at, SentAt: at,
			Identity: "+33700000000", Address: th.Snapshot.Phone}
		w := store.ThreadWrite{Message: m}
		if inbound {
			m.Direction = store.Inbound
			m.ProviderID = providerID(i)
			if sp != nil {
				m.Unread = sp.unread
			} else {
				m.Unread = rng.IntN(100) < 1
			}
		} else {
			m.Direction, m.Origin = store.Outbound, store.Direct
			if sp != nil {
				m.Author = store.Author{Agent: d.agents[sp.agent]}
			} else {
				m.Author = store.Author{Agent: d.agents[rng.IntN(len(d.agents))]}
			}
			m.SMS = store.SMSInfo{Encoding: "GSM-7", Segments: 1, Units: len(m.Text)}
			m.Recipients = 1
			hist[0] = status.Change{Status: status.Delivered, At: at}
			del[0] = store.Delivery{ID: "d" + m.ID[1:], MessageID: m.ID, ThreadID: id, Kind: channel.SMS, Address: m.Address,
				ProviderID: providerID(i), CreatedAt: at,
				Status: status.Record{Current: status.Delivered, History: hist[:]}}
			w.Deliveries = del[:]
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
		if sp == nil && i == 12345%messages {
			d.keyword = vocab[rng.IntN(len(vocab))]
		}
	}
	specs = nil
	d.allInBytes = float64(int(heapInUse()-afterThreads)-textBytes) / float64(messages)
	runtime.KeepAlive(threadIDs)
	d.deliveryBytes = deliveryBytes
	d.messageBytes = d.allInBytes - d.deliveryBytes*float64(deliveries)/float64(messages)
	d.measureTime = measure
	d.buildTime = time.Since(start) - measure
	d.buildCPU = clk.process() - startCPU - measureCPU
	some, _ := d.s.Thread(ctx, "th0000042")
	for i := 43; some.Subject.Kind != store.Contact; i++ {
		some, _ = d.s.Thread(ctx, idOf("th", i, 7))
	}
	d.someLastName = some.Snapshot.LastName
	d.someEmail = some.Snapshot.Email[:len(some.Snapshot.Email)-4]
	d.somePhoneQuery = textindex.PhoneForms(some.Snapshot.Phone)[2]
	name := "dataset"
	switch {
	case baseline:
		name = "baseline dataset (B-tree lists)"
	case k.chrono:
		name = "dataset written in time order"
	}
	b.Logf("%s: %d threads, %d messages built in %v, %v of processor time (and %v of collections measuring the heap)", name, threads, messages,
		d.buildTime.Round(time.Millisecond), d.buildCPU.Round(time.Millisecond), d.measureTime.Round(time.Millisecond))
	return d
}

// providerID is the provider ID of message i: "SM" and 32 hexadecimal
// digits, as Twilio's.
func providerID(i int) string {
	var b [34]byte
	b[0], b[1] = 'S', 'M'
	for j := 33; j >= 2; j-- {
		b[j] = "0123456789abcdef"[i&15]
		i >>= 4
	}
	return string(b[:])
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

// searchCase is a search the benchmarks run at every size.
type searchCase struct {
	name  string
	query func(d *dataset) string
}

var searchCases = []searchCase{
	{"last-name", func(d *dataset) string { return d.someLastName }},
	{"email", func(d *dataset) string { return d.someEmail }},
	{"phone", func(d *dataset) string { return d.somePhoneQuery }},
	// a first name shared by about 3 % of the contacts
	{"first-name", func(*dataset) string { return "marie" }},
	// one word of the message texts, and two words of one message
	{"keyword", func(d *dataset) string { return d.keyword }},
	{"two-keywords", func(*dataset) string { return "yoga demain" }},
}

// T13: the first page of each search at 10k, 100k and 1M threads (sizes
// in the order of the names, so that the smaller datasets are searched
// before the larger ones are built), warm and cold. Warm repeats the
// search; cold, before each search (untimed), writes one inbound message
// to a thread and flushes the processor caches by reading 64 MiB, so that
// nothing a search reads is cached and any state a search might keep per
// word is stale. ns/op is the median of the store's search (cpu-ns/op its
// processor time); beside it, collect-ns/op is the same search on the same
// store with the word slot walks turned off: every match collected from
// the indexes and postings, as the store searched before.
func BenchmarkSearch(b *testing.B) {
	for _, n := range benchSizes {
		for _, cold := range []bool{false, true} {
			for _, c := range searchCases {
				if cold && c.name != "first-name" && c.name != "keyword" && c.name != "two-keywords" {
					continue
				}
				name := sizeName(n) + "/warm/" + c.name
				if cold {
					name = sizeName(n) + "/cold/" + c.name
				}
				b.Run(name, func(b *testing.B) {
					d := loadSized(b, n)
					benchSearch(b, d, c.query(d), cold)
				})
			}
		}
	}
}

var (
	flushBuf   []byte
	coldWrites int // messages written by cold searches, in every dataset
)

// flushCaches reads 64 MiB, more than the processor's caches hold.
func flushCaches() int {
	if flushBuf == nil {
		flushBuf = make([]byte, 64<<20)
		for i := range flushBuf {
			flushBuf[i] = byte(i)
		}
	}
	n := 0
	for i := 0; i < len(flushBuf); i += 64 {
		n += int(flushBuf[i])
	}
	return n
}

func benchSearch(b *testing.B, d *dataset, query string, cold bool) {
	ctx := context.Background()
	q := store.ThreadQuery{Search: textindex.ParseQuery(query), Now: d.now, Limit: 50}
	writes := 0
	prepare := func() {
		if !cold {
			return
		}
		id := idOf("th", (writes*7919+13)%d.threads, 7)
		th, err := d.s.Thread(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		at := d.now.Add(time.Duration(writes+1) * time.Millisecond)
		th.SortTime, th.LastMessageAt, th.LastActivityAt = at, at, at
		th.Messages++
		coldWrites++ // IDs unique across runs (-count)
		m := &store.Message{ID: fmt.Sprintf("cold-%d", coldWrites), ThreadID: id, Direction: store.Inbound, Kind: channel.SMS,
			Text: "merci", CreatedAt: at, SentAt: at}
		writes++
		if err := d.s.WriteThread(ctx, store.ThreadWrite{Thread: th, Message: m}); err != nil {
			b.Fatal(err)
		}
		flushCaches()
	}
	clk := newCPUClock()
	defer clk.release()
	search := func(collect bool) (wall, cpu time.Duration, page []store.Thread) {
		memstore.SetCollectOnly(d.s, collect)
		defer memstore.SetCollectOnly(d.s, false)
		prepare()
		c, t := clk.thread(), time.Now()
		page, err := d.s.Threads(ctx, q)
		wall, cpu = time.Since(t), clk.thread()-c
		if err != nil || len(page) == 0 {
			b.Fatalf("search %q: %d threads, %v", query, len(page), err)
		}
		return wall, cpu, page
	}
	var own, ownCPU, collect, collectCPU []time.Duration
	n := 0
	for b.Loop() {
		w, c, page := search(false)
		own, ownCPU = append(own, w), append(ownCPU, c)
		w, c, want := search(true)
		collect, collectCPU = append(collect, w), append(collectCPU, c)
		if !cold && !slices.EqualFunc(page, want, func(a, b store.Thread) bool { return a.ID == b.ID }) {
			b.Fatalf("search %q: the walk and the collection disagree", query)
		}
		n = len(page)
	}
	reportPair(b, clk, own, ownCPU, collect, collectCPU, "collect")
	b.ReportMetric(float64(n), "threads/page")
}

// reportPair reports the medians of timed runs and of their baseline's:
// ns/op and cpu-ns/op (processor time, when the system gives it), beside
// base-ns/op and base-cpu-ns/op, and the ratio of the processor times
// (else of the wall-clock times) as speedup.
func reportPair(b *testing.B, clk cpuClock, wall, cpu, baseWall, baseCPU []time.Duration, base string) {
	b.ReportMetric(float64(quantile(wall, 0.5).Nanoseconds()), "ns/op")
	b.ReportMetric(float64(quantile(baseWall, 0.5).Nanoseconds()), base+"-ns/op")
	ratio := float64(quantile(baseWall, 0.5)) / float64(quantile(wall, 0.5))
	if clk.ok {
		b.ReportMetric(float64(quantile(cpu, 0.5).Nanoseconds()), "cpu-ns/op")
		b.ReportMetric(float64(quantile(baseCPU, 0.5).Nanoseconds()), base+"-cpu-ns/op")
		ratio = float64(quantile(baseCPU, 0.5)) / float64(max(1, quantile(cpu, 0.5)))
	}
	b.ReportMetric(ratio, "speedup")
}

// T3, T11, T12: the first page of every combination of the list filters
// at 1M threads. Each combination runs b.N times; the benchmark reports the
// median of the per-combination medians, the slowest per-combination median
// and the slowest per-combination 99th percentile, and beside them a naive
// filter-and-sort over a copy of every thread for a sample of the
// combinations (its median).
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
	samples, cpus := make([][]time.Duration, len(qs)), make([][]time.Duration, len(qs))
	clk := newCPUClock()
	defer clk.release()
	b.ResetTimer()
	for b.Loop() {
		for i, q := range qs {
			c, t := clk.thread(), time.Now()
			page, err := d.s.Threads(ctx, q)
			el, cpu := time.Since(t), clk.thread()-c
			if err != nil || len(page) == 0 {
				b.Fatalf("query %+v: %d threads, %v", q, len(page), err)
			}
			samples[i], cpus[i] = append(samples[i], el), append(cpus[i], cpu)
		}
	}
	b.StopTimer()
	medians, p99s, cpuMedians := make([]time.Duration, len(qs)), make([]time.Duration, len(qs)), make([]time.Duration, len(qs))
	for i, ss := range samples {
		medians[i], p99s[i], cpuMedians[i] = quantile(ss, 0.5), quantile(ss, 0.99), quantile(cpus[i], 0.5)
	}
	slowest := slices.Index(medians, slices.Max(medians))
	// The naive baseline: every thread copied out once, then each sampled
	// query filters and sorts the copy.
	all := allThreads(b, d)
	var naive []time.Duration
	for i := 0; i < len(qs); i += 15 {
		t := time.Now()
		page := filterAndSort(all, &qs[i])
		naive = append(naive, time.Since(t))
		got, _ := d.s.Threads(ctx, qs[i])
		if len(page) != len(got) || page[0].ID != got[0].ID || page[len(page)-1].ID != got[len(got)-1].ID {
			b.Fatalf("query %+v: the index and the scan disagree", qs[i])
		}
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(us(quantile(medians, 0.5)), "median-µs")
	b.ReportMetric(us(slices.Max(medians)), "slowest-median-µs")
	b.ReportMetric(us(slices.Max(p99s)), "slowest-p99-µs")
	b.ReportMetric(us(quantile(naive, 0.5)), "naive-median-µs")
	if clk.ok {
		b.ReportMetric(us(quantile(cpuMedians, 0.5)), "cpu-median-µs")
		b.ReportMetric(us(slices.Max(cpuMedians)), "cpu-slowest-median-µs")
	}
	b.Logf("%d combinations × %d runs; slowest median %v (p99 %v): %+v; naive filter-and-sort of %d threads, median of %d queries: %v",
		len(qs), b.N, medians[slowest], p99s[slowest], qs[slowest], len(all), len(naive), quantile(naive, 0.5))
}

func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }

// quantile returns the q-quantile of the durations (nearest rank).
func quantile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// allThreads copies every thread of the dataset out of the store.
func allThreads(b *testing.B, d *dataset) []store.Thread {
	var all []store.Thread
	for _, st := range []store.StatusFilter{store.All, store.Archived} {
		q := store.ThreadQuery{Status: st, Now: d.now, Limit: 100_000}
		for {
			page, err := d.s.Threads(context.Background(), q)
			if err != nil {
				b.Fatal(err)
			}
			all = append(all, page...)
			if len(page) < q.Limit {
				break
			}
			p := store.PositionOf(page[len(page)-1])
			q.After = &p
		}
	}
	return all
}

// filterAndSort is the naive way to answer q without a search: filter
// every thread, sort the matches, cut the page.
func filterAndSort(all []store.Thread, q *store.ThreadQuery) []store.Thread {
	var out []store.Thread
	for i := range all {
		t := &all[i]
		if t.Dormant || (q.Status == store.Archived) != t.Archived ||
			q.Status == store.Unread && t.Unread == 0 || q.Status == store.Favourites && !t.Favourite ||
			q.Status == store.Muted && !t.MutedAt(q.Now) ||
			q.Lifecycle == store.Open && t.Closed || q.Lifecycle == store.Closed && !t.Closed ||
			q.Category != 0 && t.Subject.Kind != q.Category ||
			q.Assignee != "" && t.Assignee != q.Assignee || q.Unassigned && t.Assignee != "" {
			continue
		}
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b store.Thread) int {
		if store.PositionOf(a).Before(store.PositionOf(b)) {
			return -1
		}
		return 1
	})
	return out[:min(len(out), q.Limit)]
}

// M5, T4, T5: WriteThread appending one inbound message to an existing
// thread, moving it to the top of its lists (the thread is read before
// the timer starts, as the inbox does), at 100k and 1M threads, beside the
// same writes to the same dataset in a store with the list index it had
// before (base-): one op is one write. Each iteration writes a batch of
// writeBatch messages to each store in turn, each batch timed on its own;
// the benchmark reports the medians of the batches' times per write, and
// the allocations per write.
func BenchmarkWriteThreadInbound(b *testing.B) {
	for _, n := range benchSizes[1:] {
		b.Run(sizeName(n), func(b *testing.B) { benchWriteInbound(b, loadSized(b, n), loadBase(b, n)) })
	}
}

const writeBatch = 100

var inboundWrites int // writes made by BenchmarkWriteThreadInbound, for unique IDs across runs

func benchWriteInbound(b *testing.B, d, base *dataset) {
	ctx := context.Background()
	sets := []*dataset{d, base}
	type sample struct{ wall, cpu, allocs, bytes []time.Duration }
	samples := make([]sample, len(sets))
	batch := make([][]store.ThreadWrite, len(sets))
	clk := newCPUClock()
	defer clk.release()
	metrics := []runtimemetrics.Sample{{Name: "/gc/heap/allocs:objects"}, {Name: "/gc/heap/allocs:bytes"}}
	allocs := func() (uint64, uint64) {
		runtimemetrics.Read(metrics)
		return metrics[0].Value.Uint64(), metrics[1].Value.Uint64()
	}
	at := d.now.Add(time.Duration(inboundWrites+1) * time.Millisecond)
	b.ReportAllocs() // replaced below by the writes' own
	for b.Loop() {
		// The same threads in both stores, written at the same times.
		first := inboundWrites
		for k, set := range sets {
			batch[k] = batch[k][:0]
			for i := range writeBatch {
				id := idOf("th", ((first+i)*7919+13)%set.threads, 7)
				th, err := set.s.Thread(ctx, id)
				if err != nil {
					b.Fatal(err)
				}
				at := at.Add(time.Duration(i) * time.Millisecond)
				text := "Bonjour, est-ce que je peux déplacer mon cours de yoga à demain soir ? Merci beaucoup"
				th.SortTime, th.LastMessageAt, th.LastActivityAt, th.LastInboundAt = at, at, at, at
				th.Unread++
				th.Messages++
				th.Archived, th.Closed = false, false
				th.Preview = text[:40]
				mid := "bench-" + strconv.Itoa(first+i)
				batch[k] = append(batch[k], store.ThreadWrite{Thread: th, Message: &store.Message{ID: mid, ThreadID: id,
					Direction: store.Inbound, Kind: channel.SMS, Text: text, CreatedAt: at, SentAt: at, Unread: true,
					ProviderID: "SM" + mid, Identity: "+33700000000", Address: th.Snapshot.Phone}})
			}
		}
		inboundWrites += writeBatch
		at = at.Add(writeBatch * time.Millisecond)
		for k, set := range sets {
			n0, b0 := allocs()
			c, t := clk.thread(), time.Now()
			for i := range batch[k] {
				if err := set.s.WriteThread(ctx, batch[k][i]); err != nil {
					b.Fatal(err)
				}
			}
			wall, cpu := time.Since(t), clk.thread()-c
			n1, b1 := allocs()
			sm := &samples[k]
			sm.wall, sm.cpu = append(sm.wall, wall/writeBatch), append(sm.cpu, cpu/writeBatch)
			sm.allocs, sm.bytes = append(sm.allocs, time.Duration(n1-n0)), append(sm.bytes, time.Duration(b1-b0))
		}
	}
	reportPair(b, clk, samples[0].wall, samples[0].cpu, samples[1].wall, samples[1].cpu, "base")
	for k, name := range []string{"", "base-"} {
		var n, by time.Duration
		for i := range samples[k].allocs {
			n, by = n+samples[k].allocs[i], by+samples[k].bytes[i]
		}
		w := float64(len(samples[k].allocs) * writeBatch)
		b.ReportMetric(float64(n)/w, name+"allocs/op")
		b.ReportMetric(float64(by)/w, name+"B/op")
	}
}

// BenchmarkMemory reports the heap the dataset takes: per thread (without
// messages), per message beyond its text without its deliveries (the
// target), per delivery, and per message with its deliveries; and the time
// the build took (with the garbage collector at 400 % for the build only),
// apart from the forced collections that measure the heap, and its
// processor time (every thread's: the collector's work counts). At 100k and
// 1M threads.
func BenchmarkMemory(b *testing.B) {
	for _, n := range benchSizes[1:] {
		b.Run(sizeName(n), func(b *testing.B) {
			d := loadSized(b, n)
			for b.Loop() {
			}
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(d.threadBytes, "B/thread")
			b.ReportMetric(d.messageBytes, "B/message")
			b.ReportMetric(d.deliveryBytes, "B/delivery")
			b.ReportMetric(d.allInBytes, "B/message+deliveries")
			b.ReportMetric(d.buildTime.Seconds(), "build-s")
			b.ReportMetric(d.buildCPU.Seconds(), "build-cpu-s")
			b.ReportMetric(d.measureTime.Seconds(), "heap-measure-s")
			base := loadBase(b, n)
			b.ReportMetric(base.buildTime.Seconds(), "base-build-s")
			b.ReportMetric(base.buildCPU.Seconds(), "base-build-cpu-s")
		})
	}
}

// BenchmarkBuildChronological builds the datasets of BenchmarkMemory with
// the same threads and messages written in the order of their times, as a
// real inbox receives them (threads by creation time, then messages by
// time), instead of a round of one message per thread at a time; it
// reports what BenchmarkMemory does of that build. At 100k and 1M threads.
func BenchmarkBuildChronological(b *testing.B) {
	for _, n := range benchSizes[1:] {
		b.Run(sizeName(n), func(b *testing.B) {
			d := loadSet(b, setKey{threads: n, chrono: true})
			for b.Loop() {
			}
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(d.threadBytes, "B/thread")
			b.ReportMetric(d.messageBytes, "B/message")
			b.ReportMetric(d.buildTime.Seconds(), "build-s")
			b.ReportMetric(d.buildCPU.Seconds(), "build-cpu-s")
			b.ReportMetric(d.measureTime.Seconds(), "heap-measure-s")
		})
	}
}
