package channel_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/parleyhq/parley/channel"
)

// A host registers the channels it has; a kind it has not registered is
// refused (C1).
func ExampleRegistry() {
	reg := channel.NewRegistry()
	sms := channel.SenderFunc(func(ctx context.Context, m *channel.Message) (channel.Receipt, error) {
		return channel.Receipt{ProviderID: "SM1"}, nil
	})
	_ = reg.Register(channel.SMS, sms, channel.Config{Identities: []channel.Identity{
		{ID: "main", Address: "+33757000001", TwoWay: true},
		{ID: "brand", Address: "STUDIO"},
	}})
	from, _ := reg.Identity(channel.SMS, "")
	fmt.Println("default sender:", from.Address)
	_, err := reg.Sender(channel.WhatsApp)
	fmt.Println(err, errors.Is(err, channel.ErrNotRegistered))
	// Output:
	// default sender: +33757000001
	// channel: whatsapp not registered true
}
