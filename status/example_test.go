package status_test

import (
	"fmt"

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
	var r status.Record
	for _, c := range []status.Change{
		{Status: status.Sent, Raw: "sent"},
		{Status: status.Validated, Raw: "queued"}, // late, ignored
		{Status: status.Delivered, Raw: "delivered"},
		{Status: status.Delivered, Raw: "delivered"}, // duplicate, ignored
	} {
		ok, _ := r.Apply(c)
		fmt.Println(c.Raw, ok)
	}
	fmt.Println(r.Current, len(r.History))
	// Output:
	// sent true
	// queued false
	// delivered true
	// delivered false
	// delivered 2
}
