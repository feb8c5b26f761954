package channeltest_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/channeltest"
)

// Concurrent sends (a broadcast's fan-out) each get their own provider ID,
// and the fake records each message once, with the receipt its sender got,
// a copy the sender's later changes do not reach.
func TestConcurrentSendsRecorded(t *testing.T) {
	f := channeltest.NewFake(channel.SMS, channeltest.Options{Now: clock(), IDPrefix: "SM"})
	const workers, each = 16, 200
	got := make([][]string, workers) // provider IDs by worker and send
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			m := new(channel.Message) // reused, as the inbox's workers do
			for i := range each {
				*m = channel.Message{Kind: channel.SMS, To: "+33612345678", Text: fmt.Sprintf("w%d-%d", w, i)}
				r, err := f.Send(context.Background(), m)
				if err != nil {
					t.Error(err)
					return
				}
				got[w] = append(got[w], r.ProviderID)
			}
		})
	}
	wg.Wait()
	sent := f.Sent()
	if len(sent) != workers*each {
		t.Fatalf("%d messages recorded, want %d", len(sent), workers*each)
	}
	byID := map[string]string{}
	for i, s := range sent {
		if want := fmt.Sprintf("SM%06d", i+1); s.Receipt.ProviderID != want {
			t.Fatalf("message %d recorded with provider ID %s, want %s", i, s.Receipt.ProviderID, want)
		}
		byID[s.Receipt.ProviderID] = s.Message.Text
	}
	for w := range workers {
		for i, id := range got[w] {
			if text := byID[id]; text != fmt.Sprintf("w%d-%d", w, i) {
				t.Fatalf("provider ID %s returned for w%d-%d recorded %q", id, w, i, text)
			}
		}
	}
}
