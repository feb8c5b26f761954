package status_test

import (
	"fmt"
	"time"

	"github.com/parleyhq/parley/status"
)

// Webhooks arrive duplicated and out of order; Merge gives the same answer
// whatever the order (S2).
func ExampleMerge() {
	webhooks := []status.Status{status.Delivered, status.Sent, status.Validated, status.Delivered}
	s := status.Unknown
	for _, w := range webhooks {
		s = status.Merge(s, w)
	}
	fmt.Println(s)
	// Output: delivered
}

func ExampleParseTwilio() {
	s, err := status.ParseTwilio("undelivered")
	fmt.Println(s, err)
	_, err = status.ParseTwilio("received")
	fmt.Println(err)
	// Output:
	// undelivered <nil>
	// status: twilio "received": inbound message status
}

func ExampleRecord() {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	var r status.Record
	for _, c := range []status.Change{
		{Status: status.Delivered, At: t0.Add(2 * time.Second), Raw: "delivered"},
		{Status: status.Sent, At: t0.Add(time.Second), Raw: "sent"},               // late: kept, before delivered
		{Status: status.Delivered, At: t0.Add(2 * time.Second), Raw: "delivered"}, // duplicate: ignored
	} {
		ok, _ := r.Apply(c)
		fmt.Println(c.Raw, ok)
	}
	fmt.Println("current:", r.Current)
	for _, h := range r.History {
		fmt.Println(h.At.Format("15:04:05"), h.Status)
	}
	// Output:
	// delivered true
	// sent true
	// delivered false
	// current: delivered
	// 10:00:01 sent
	// 10:00:02 delivered
}
