package email_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/email"
)

// sink is a minimal SMTP backend on loopback that keeps the last message.
type sink struct{ last chan []byte }

func (s *sink) NewSession(*smtp.Conn) (smtp.Session, error) { return s, nil }
func (s *sink) Mail(string, *smtp.MailOptions) error        { return nil }
func (s *sink) Rcpt(string, *smtp.RcptOptions) error        { return nil }
func (s *sink) Reset()                                      {}
func (s *sink) Logout() error                               { return nil }
func (s *sink) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.last <- b
	return err
}

// A host sends email through its SMTP relay; the Receipt's ProviderID is
// the Message-ID that replies will name.
func ExampleSender_Send() {
	// A local relay for the example; a host points Host and Port at its own.
	be := &sink{last: make(chan []byte, 1)}
	srv := smtp.NewServer(be)
	srv.Domain = "localhost"
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	go func() { _ = srv.Serve(l) }()
	defer srv.Close()
	defer l.Close()

	sender, err := email.New(email.Config{
		Host: "127.0.0.1",
		Port: l.Addr().(*net.TCPAddr).Port,
		TLS:  email.NoTLS, // a real relay: the default, STARTTLS required, with Username/Password
		From: channel.Identity{Address: "hello@studio.example", Name: "Studio Zen"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	rc, err := sender.Send(context.Background(), &channel.Message{
		Kind:    channel.Email,
		To:      "jane@example.org",
		Subject: "Your class tomorrow",
		Text:    "See you at 9.",
		HTML:    "<p>See you at <b>9</b>.</p>",
		ReplyTo: "reply+th_1.abcdefghijklmnop@in.studio.example",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	raw := <-be.last
	fmt.Println("provider ID domain:", rc.ProviderID[strings.IndexByte(rc.ProviderID, '@'):])
	fmt.Println("Message-ID sent:", bytes.Contains(raw, []byte("Message-ID: <"+rc.ProviderID+">")))
	fmt.Println("multipart/alternative:", bytes.Contains(raw, []byte("multipart/alternative")))
	// Output:
	// provider ID domain: @studio.example
	// Message-ID sent: true
	// multipart/alternative: true
}

// Each thread gets its own reply address; a reply sent to it is routed to
// the thread, and a forged one is refused.
func ExampleReplyAddress() {
	secret := []byte("a secret of at least 16 bytes")
	addr, _ := email.ReplyAddress(secret, "reply@in.studio.example", "th_42")
	fmt.Println(addr)

	thread, err := email.ParseReplyAddress(secret, addr)
	fmt.Println(thread, err)

	_, err = email.ParseReplyAddress(secret, strings.Replace(addr, "th_42", "th_43", 1))
	fmt.Println(err != nil)
	// Output:
	// reply+th_42.ojg7sat73ztu6a5r@in.studio.example
	// th_42 <nil>
	// true
}

func ExampleStripQuoted() {
	fmt.Println(email.StripQuoted(`Parfait, à demain !

Le sam. 14 mars 2026 à 09:30, Studio Zen <hello@studio.example> a écrit :
> Bonjour Hélène, votre séance est confirmée.`))
	// Output:
	// Parfait, à demain !
}

func ExampleParse() {
	raw := "From: =?UTF-8?Q?H=C3=A9l=C3=A8ne?= <helene@example.org>\r\n" +
		"To: hello@studio.example\r\n" +
		"Subject: Re: Yoga\r\n" +
		"Message-ID: <r1@example.org>\r\n" +
		"In-Reply-To: <k3xq2@studio.example>\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\n" +
		"Yes, see you!\r\n\r\n" +
		"On Sat, Mar 14, 2026 at 9:30 AM Studio Zen <hello@studio.example> wrote:\r\n" +
		"> Your class is at 9.\r\n"
	in, err := email.Parse(strings.NewReader(raw))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(in.Name, in.From)
	fmt.Println(in.ProviderID, in.InReplyTo)
	fmt.Printf("%q\n", in.Text)
	// Output:
	// Hélène helene@example.org
	// r1@example.org [k3xq2@studio.example]
	// "Yes, see you!"
}

// printer is a channel.Receiver that prints what it receives.
type printer struct{}

func (printer) Receive(_ context.Context, in channel.Inbound) error {
	fmt.Printf("received %s from %s: %q\n", in.ProviderID, in.From, in.Text)
	return nil
}

func (printer) ApplyStatus(context.Context, channel.StatusUpdate) error { return nil }

// The inbound webhook takes raw mail from a relay that signs each body.
func ExampleNewHandler() {
	secret := []byte("webhook secret shared with the relay")
	h, err := email.NewHandler(email.HandlerConfig{Secret: secret}, printer{})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/email", h)

	body := []byte("From: jane@example.org\r\nTo: hello@studio.example\r\nSubject: Hi\r\nMessage-ID: <m1@example.org>\r\n\r\nIs there parking?\r\n")
	req := httptest.NewRequest(http.MethodPost, "/webhooks/email", bytes.NewReader(body))
	req.Header.Set("Content-Type", "message/rfc822")
	req.Header.Set(email.SignatureHeader, email.Sign(secret, time.Now(), body)) // what the relay does
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, req)
	fmt.Println(w.Code)
	// Output:
	// received m1@example.org from jane@example.org: "Is there parking?"
	// 200
}
