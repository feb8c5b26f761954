package fcm_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/fcm"
)

// A Sender takes the service account key of the Firebase project; here the
// fake Google of the tests plays the token endpoint and FCM, and scripts the
// second device as uninstalled.
func ExampleSender_Send() {
	clk := &clock{t: t0}
	google := startFake(&testKey().PublicKey, clk.Now)
	defer google.srv.Close()
	google.ReplyFor("token-of-an-uninstalled-app", replyUnregistered)

	sender, err := fcm.New(fcm.Config{
		CredentialsJSON: credentials(google.srv.URL+"/token", testKey()), // os.ReadFile("service-account.json")
		BaseURL:         google.srv.URL,                                  // FCM itself when empty
		Now:             clk.Now,
	})
	if err != nil {
		panic(err)
	}
	msg := &channel.Message{Kind: channel.Push, To: "token-of-mias-phone", Subject: "Studio Lumière",
		Text: "Your Pilates class moves to 19:00", Reference: "delivery-1",
		Metadata: map[string]string{channel.MetaThreadID: "thread-1", channel.MetaMessageID: "message-1"}}
	rc, err := sender.Send(context.Background(), msg)
	fmt.Println(rc.Status, rc.ProviderID != "", err)
	data := google.Sent()[0].Message.Data
	fmt.Println(data["parley_thread_id"], data["parley_message_id"], data["parley_delivery_id"])

	msg.To = "token-of-an-uninstalled-app"
	_, err = sender.Send(context.Background(), msg)
	fmt.Println(errors.Is(err, channel.ErrAddressRetired), channel.Retryable(err))
	fmt.Println(err)
	fmt.Println(sender)
	// Output:
	// sent true <nil>
	// thread-1 message-1 delivery-1
	// true false
	// fcm: HTTP 404 NOT_FOUND: UNREGISTERED: Requested entity was not found.
	// fcm.Sender(project studio-lumiere)
}
