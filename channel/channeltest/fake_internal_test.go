package channeltest

import (
	"testing"

	"github.com/parleyhq/parley/channel"
)

// A provider ID is the prefix and the message's number in at least six
// digits.
func TestProviderID(t *testing.T) {
	f := NewFake(channel.SMS, Options{IDPrefix: "SM"})
	for n, want := range map[int]string{1: "SM000001", 42: "SM000042", 999999: "SM999999", 1234567: "SM1234567"} {
		if got := f.providerID(n); got != want {
			t.Errorf("providerID(%d) = %s, want %s", n, got, want)
		}
	}
	if got := NewFake(channel.WhatsApp, Options{}).providerID(7); got != "WHATSAPP-000007" {
		t.Errorf("default prefix: %s", got)
	}
}
