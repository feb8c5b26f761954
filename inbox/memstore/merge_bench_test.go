package memstore_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/status"
)

// BenchmarkMergeStatus merges 1,000,000 shuffled, duplicated status
// reports (250,000 deliveries of one broadcast × sent, delivered × 2) into
// a store with MergeStatus, each change writing one feed event that holds
// the delivery's ID, as the inbox's does (S2, S3): the store's part of
// inbox's BenchmarkStatusUpdates without the inbox's. The provider IDs
// are written after the deliveries, as sends do, and each report's is a
// string of its own, as a webhook's is. The provider IDs are 8 bytes long
// (as inbox's benchmark's) or 34 (as Twilio's). It reports the thread's
// processor time per report.
func BenchmarkMergeStatus(b *testing.B) {
	for _, long := range []bool{false, true} {
		name := "pid=8"
		if long {
			name = "pid=34"
		}
		b.Run(name, func(b *testing.B) { benchMergeStatus(b, long) })
	}
}

func benchMergeStatus(b *testing.B, long bool) {
	const n = 250_000
	clock := newCPUClock()
	defer clock.release()
	var cpu, wall float64
	for range b.N {
		b.StopTimer()
		s := memstore.New()
		dels := make([]store.Delivery, n)
		for i := range dels {
			dels[i] = store.Delivery{ID: fmt.Sprintf("id%d", 1000+i), MessageID: "m1", ThreadID: "t1", CreatedAt: t0,
				Status: status.Record{Current: status.Pending, History: []status.Change{{Status: status.Pending, At: t0}}}}
		}
		if err := s.WriteThread(ctx, store.ThreadWrite{Thread: newThread("t1", store.Audience),
			Message: &store.Message{ID: "m1", ThreadID: "t1", Direction: store.Outbound, Recipients: n}, Deliveries: dels}); err != nil {
			b.Fatal(err)
		}
		type report struct {
			pid string
			c   status.Change
		}
		reports := make([]report, 0, 4*n)
		for i := range dels {
			d := &dels[i]
			d.Version = 1
			d.ProviderID = fmt.Sprintf("SM%06d", i)
			if long {
				d.ProviderID = fmt.Sprintf("SM%032x", uint64(i)*0x9e3779b97f4a7c15)
			}
			if _, err := d.Status.Apply(status.Change{Status: status.Validated, At: t0, Raw: "queued"}); err != nil {
				b.Fatal(err)
			}
			if err := s.WriteDelivery(ctx, *d); err != nil {
				b.Fatal(err)
			}
			for k, st := range []status.Status{status.Sent, status.Delivered} {
				c := status.Change{Status: st, At: t0.Add(time.Duration(k+1) * time.Second), Raw: st.String()}
				reports = append(reports, report{strings.Clone(d.ProviderID), c}, report{strings.Clone(d.ProviderID), c})
			}
		}
		dels = nil
		rand.New(rand.NewPCG(5, 6)).Shuffle(len(reports), func(i, j int) { reports[i], reports[j] = reports[j], reports[i] })
		var buf []byte
		events := func(m store.Merged) []store.FeedEvent {
			buf = append(append(append(buf[:0], `{"type":"status_changed","delivery":"`...), m.DeliveryID...), `"}`...)
			return []store.FeedEvent{{At: t0, Data: buf}}
		}
		runtime.GC()
		b.StartTimer()
		start, c0 := time.Now(), clock.thread()
		for _, r := range reports {
			if _, err := s.MergeStatus(ctx, r.pid, r.c, events); err != nil {
				b.Fatal(err)
			}
		}
		cpu += float64(clock.thread() - c0)
		wall += float64(time.Since(start))
		b.StopTimer()
	}
	b.ReportMetric(cpu/float64(b.N*4*n), "cpu-ns/merge")
	b.ReportMetric(wall/float64(b.N*4*n), "ns/merge")
}
