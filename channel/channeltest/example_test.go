package channeltest_test

import (
	"context"
	"fmt"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/channeltest"
	"github.com/parleyhq/parley/status"
)

// A host test registers a fake SMS channel, sends through it, then replays
// the provider's webhooks shuffled and duplicated.
func ExampleFake() {
	fake := channeltest.NewFake(channel.SMS, channeltest.Options{IDPrefix: "SM"})
	reg := channel.NewRegistry()
	_ = reg.Register(channel.SMS, fake, channel.Config{})

	sender, _ := reg.Sender(channel.SMS)
	r, _ := sender.Send(context.Background(), &channel.Message{Kind: channel.SMS, To: "+33612345678", Text: "Class moved to 19:00"})
	fmt.Println("accepted:", r.ProviderID, r.Status)

	final := status.Unknown
	fake.OnStatus(func(u channel.StatusUpdate) { final = status.Merge(final, u.Status) })
	fake.FlushShuffled(42, true)
	fmt.Println("after out-of-order webhooks:", final)

	fake.FailNext(channeltest.Transient("carrier timeout"))
	_, err := sender.Send(context.Background(), &channel.Message{Kind: channel.SMS, To: "+33612345678", Text: "again"})
	fmt.Println("retryable:", channel.Retryable(err))
	fmt.Println("recorded sends:", len(fake.Sent()))
	// Output:
	// accepted: SM000001 validated
	// after out-of-order webhooks: delivered
	// retryable: true
	// recorded sends: 1
}
