package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/channeltest"
	"github.com/parleyhq/parley/channel/email"
	"github.com/parleyhq/parley/channel/twilio"
	"github.com/parleyhq/parley/channel/whatsapp"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/recipient"
	ptemplate "github.com/parleyhq/parley/template"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// The secrets a host keeps in its configuration. Twilio signs with the
// account's auth token, Meta with the app secret, the email relay with a
// secret shared with the host; reply addresses carry a token made with
// their own secret.
const (
	twilioAuthToken  = "0123456789abcdef0123456789abcdef"
	metaAppSecret    = "meta-app-secret-7f3a9c"
	metaVerifyToken  = "tilleuls-verify-2026"
	relaySecret      = "relay-secret-0123456789abcdef"
	replySecret      = "reply-address-secret-4d9e2b7c1a"
	replyBase        = "reply@in.hotel.example"
	hotelNumber      = "+33757000001"
	waPhoneNumberID  = "106540352242922"
	twilioAccountSID = "AC00000000000000000000000000000001"
)

// timeouts are the http.Server timeouts in front of the webhook handlers.
type timeouts struct {
	// ReadHeader bounds the reading of the request line and headers: a
	// client that trickles its headers is cut off.
	ReadHeader time.Duration
	// Read bounds the reading of the whole request, body included: a
	// client that trickles its body is cut off, and the handler answers
	// 408. Webhook bodies are small (an email may weigh 25 MiB: give the
	// relay's bandwidth room).
	Read time.Duration
	// Write bounds the time from the end of the request headers to the end
	// of the answer, which includes the inbox's store writes: longer than
	// the slowest of those, shorter than the provider's own timeout
	// (Twilio waits 15 s).
	Write time.Duration
	// Idle bounds how long a keep-alive connection waits for its next
	// request.
	Idle time.Duration
}

// hostTimeouts are the timeouts this server runs with.
func hostTimeouts() timeouts {
	return timeouts{ReadHeader: 5 * time.Second, Read: 10 * time.Second, Write: 14 * time.Second, Idle: 60 * time.Second}
}

// webhookServer is the http.Server a host puts in front of webhook
// handlers: every timeout set, and headers bounded.
func webhookServer(h http.Handler, t timeouts) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		MaxHeaderBytes:    64 << 10,
	}
}

// twilioSIDPrefix makes the SMS fake's provider IDs message SIDs as Twilio
// writes them: "SM" and 32 hex digits.
const twilioSIDPrefix = "SM00000000000000000000000000"

// Routes of the host's server.
const (
	twilioPath   = "/webhooks/twilio"
	whatsAppPath = "/webhooks/whatsapp"
	emailPath    = "/webhooks/email"
)

// clock is the program's clock, fixed unless the story moves it, so that the
// output is the same on every run. Handlers read it from the server's
// goroutines, hence the lock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// demo holds what the story uses.
type demo struct {
	out    io.Writer
	clk    *clock
	ib     *inbox.Inbox
	srv    *httptest.Server
	client *http.Client
	sms    *channeltest.Fake
	wa     *channeltest.Fake
	mail   *channeltest.Fake
	// threads by guest ID, and the provider IDs of what the hotel sent
	threads                   map[string]inbox.Thread
	smsSID, waID, emailMsgID  string
	inboundSID, inboundWAMsg  string
	helenePhone, danPhone     string
	heleneEmail, heleneWorkAt string
}

func run(ctx context.Context, out io.Writer) error {
	d, err := newDemo(out, hostTimeouts())
	if err != nil {
		return err
	}
	defer d.ib.Close()
	defer d.srv.Close()
	for _, step := range []func(context.Context) error{d.hotelSends, d.twilio, d.whatsApp, d.email, d.report} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// newDemo builds the inbox, the fake senders and the host's HTTP server
// with the three webhook handlers, the server running with timeouts t.
func newDemo(out io.Writer, t timeouts) (*demo, error) {
	d := &demo{out: out, clk: &clock{t: time.Date(2026, 3, 20, 9, 0, 0, 0, time.UTC)},
		threads: map[string]inbox.Thread{}, helenePhone: "+33612345678", danPhone: "+12015550123",
		heleneEmail: "helene.martin@example.fr", heleneWorkAt: "h.martin@work.example"}
	if err := d.setUp(t); err != nil {
		return nil, err
	}
	return d, nil
}

// setUp builds the inbox, the fake senders and the host's HTTP server with
// the three webhook handlers.
func (d *demo) setUp(t timeouts) error {
	fmt.Fprintln(d.out, "== 1. The hotel's server")
	dir := memstore.NewDirectory()
	for _, c := range []recipient.Contact{
		{ID: "g-helene", FirstName: "Hélène", LastName: "Martin", Phone: d.helenePhone, Email: d.heleneEmail},
		{ID: "g-dan", FirstName: "Dan", LastName: "Walker", Phone: d.danPhone, Email: "dan.walker@example.com"},
	} {
		if err := dir.PutContact(c); err != nil {
			return err
		}
	}
	// Sending goes through fakes that answer like the providers do, with
	// provider IDs in each provider's style.
	d.sms = channeltest.NewFake(channel.SMS, channeltest.Options{IDPrefix: twilioSIDPrefix})
	d.wa = channeltest.NewFake(channel.WhatsApp, channeltest.Options{IDPrefix: "wamid.OUT"})
	d.mail = channeltest.NewFake(channel.Email, channeltest.Options{IDPrefix: "out-"})
	reg := channel.NewRegistry()
	for _, c := range []struct {
		f  *channeltest.Fake
		id channel.Identity
	}{
		{d.sms, channel.Identity{ID: "front-desk", Address: hotelNumber, TwoWay: true}},
		{d.wa, channel.Identity{ID: "front-desk", Address: waPhoneNumberID, TwoWay: true}},
		{d.mail, channel.Identity{ID: "front-desk", Address: "front@hotel.example", Name: "Hôtel des Tilleuls", TwoWay: true}},
	} {
		if err := reg.Register(c.f.Kind(), c.f, channel.Config{Identities: []channel.Identity{c.id}}); err != nil {
			return err
		}
	}
	n := 0
	// StatusWait: a status may race the write of its own send's outcome,
	// and the inbox then looks for the delivery again for a while (5 s by
	// default) before it acknowledges the status as unknown. Here every
	// send is recorded before its statuses are posted, and the one unknown
	// status is for a message sent outside Parley, which no wait would
	// find: a short wait keeps the demo from sleeping for nothing. A host
	// keeps a wait above its store's write time and well below its
	// providers' webhook timeouts.
	ib, err := inbox.New(memstore.New(), inbox.Options{Now: d.clk.Now, Directory: dir, Channels: reg,
		NewID:      func() string { n++; return fmt.Sprintf("id%04d", n) },
		StatusWait: 50 * time.Millisecond})
	if err != nil {
		return err
	}
	d.ib = ib

	mux := http.NewServeMux()
	d.srv = httptest.NewUnstartedServer(mux)
	d.srv.Config = webhookServer(mux, t)
	d.srv.Start()
	d.client = d.srv.Client()
	// Twilio signs the URL it calls: the handler checks the signature
	// against BaseURL followed by the request's path. Behind a proxy,
	// BaseURL is the public https origin configured at Twilio. Webhooks of
	// another account are refused.
	tw, err := twilio.NewHandler(twilio.HandlerConfig{AccountSID: twilioAccountSID, AuthToken: twilioAuthToken,
		BaseURL: d.srv.URL, Now: d.clk.Now}, ib)
	if err != nil {
		return err
	}
	wa, err := whatsapp.NewHandler(whatsapp.HandlerConfig{AppSecret: metaAppSecret, VerifyToken: metaVerifyToken, Now: d.clk.Now}, ib)
	if err != nil {
		return err
	}
	em, err := email.NewHandler(email.HandlerConfig{Secret: []byte(relaySecret), ReplySecrets: [][]byte{[]byte(replySecret)},
		Now: d.clk.Now}, ib)
	if err != nil {
		return err
	}
	mux.Handle(twilioPath, tw)
	mux.Handle(whatsAppPath, wa)
	mux.Handle(emailPath, em)
	fmt.Fprintf(d.out, "listening on 127.0.0.1; %s (Twilio), %s (WhatsApp Cloud API), %s (email relay) feed the inbox\n",
		twilioPath, whatsAppPath, emailPath)
	fmt.Fprintf(d.out, "server timeouts: read header %s, read %s, write %s, idle %s\n", d.srv.Config.ReadHeaderTimeout,
		d.srv.Config.ReadTimeout, d.srv.Config.WriteTimeout, d.srv.Config.IdleTimeout)
	return nil
}

// hotelSends sends one message on each channel through the inbox, so that
// the providers have something to report on.
func (d *demo) hotelSends(ctx context.Context) error {
	fmt.Fprintln(d.out, "\n== 2. The front desk sends (through fake senders)")
	for _, id := range []string{"g-helene", "g-dan"} {
		th, err := d.ib.Start(ctx, inbox.Subject{Kind: inbox.SubjectContact, ID: id})
		if err != nil {
			return err
		}
		d.threads[id] = th
	}
	welcome := &ptemplate.WhatsAppTemplate{Name: "arrival_welcome", Language: "en", Category: ptemplate.CategoryUtility,
		State: ptemplate.ApprovalApproved, Body: "Hello {{1}}, welcome to Hôtel des Tilleuls. Reply here if you need anything.",
		Params: []string{"Contact.FirstName"}}
	for _, s := range []struct {
		label string
		draft inbox.Draft
		id    *string
	}{
		{"SMS to Dan", inbox.Draft{Kind: channel.SMS, ThreadID: d.threads["g-dan"].ID, Text: "Hi Dan, room 4 is ready from 16:00."}, &d.smsSID},
		{"WhatsApp template to Hélène", inbox.Draft{Kind: channel.WhatsApp, ThreadID: d.threads["g-helene"].ID, WhatsApp: welcome}, &d.waID},
		{"email to Hélène", inbox.Draft{Kind: channel.Email, ThreadID: d.threads["g-helene"].ID, Subject: "Your stay at Hôtel des Tilleuls",
			Text: "Dear Hélène, we look forward to welcoming you on Monday."}, &d.emailMsgID},
	} {
		s.draft.Author = inbox.Author{Agent: "lea"}
		res, err := d.ib.Send(ctx, s.draft)
		if err != nil {
			return fmt.Errorf("webhooks: %s: %w", s.label, err)
		}
		if len(res.Deliveries) != 1 {
			return fmt.Errorf("webhooks: %s: %d deliveries, want 1", s.label, len(res.Deliveries))
		}
		*s.id = res.Deliveries[0].ProviderID
		fmt.Fprintf(d.out, "%-28s provider ID %-16s %s\n", s.label, *s.id, res.Deliveries[0].Status.Current)
	}
	return nil
}

// twilio plays Twilio: a signed inbound SMS, the same one tampered with, the
// same one again (Twilio retries), and status callbacks.
func (d *demo) twilio(ctx context.Context) error {
	fmt.Fprintln(d.out, "\n== 3. Twilio calls "+twilioPath)
	d.clk.Advance(3 * time.Minute)
	d.inboundSID = "SM5f0b8f6c2a1e4d7b9c3e8a1f2d4b6c8e"
	inbound := url.Values{
		"AccountSid": {twilioAccountSID}, "ApiVersion": {"2010-04-01"}, "MessageSid": {d.inboundSID},
		"SmsMessageSid": {d.inboundSID}, "SmsSid": {d.inboundSID}, "SmsStatus": {"received"},
		"From": {d.danPhone}, "FromCountry": {"US"}, "To": {hotelNumber}, "ToCountry": {"FR"},
		"Body": {"Great, thanks! Can I park on site?"}, "NumMedia": {"0"}, "NumSegments": {"1"},
	}
	if err := d.postTwilio(ctx, "inbound SMS from Dan, signed", http.StatusOK, inbound, inbound); err != nil {
		return err
	}
	tampered := cloneValues(inbound)
	tampered.Set("Body", "Please refund my stay to account 12345.")
	if err := d.postTwilio(ctx, "same SMS, body changed after signing", http.StatusForbidden, tampered, inbound); err != nil {
		return err
	}
	// Twilio signs names and values joined without separators: moving
	// "NumMedia0" into MessageSid keeps the signature, and the SID's shape
	// gives the forgery away.
	resplit := cloneValues(inbound)
	resplit.Del("NumMedia")
	resplit.Set("MessageSid", d.inboundSID+"NumMedia0")
	if err := d.postTwilio(ctx, "same SMS re-split (NumMedia0 moved into MessageSid)", http.StatusBadRequest, resplit, inbound); err != nil {
		return err
	}
	if err := d.postTwilio(ctx, "same SMS again (Twilio retries)", http.StatusOK, inbound, inbound); err != nil {
		return err
	}
	got, err := d.ib.Messages(ctx, inbox.MessageQuery{ThreadID: d.threads["g-dan"].ID, Direction: inbox.Inbound})
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "   Dan's thread holds %d inbound message: the inbox deduplicates by MessageSid (M5)\n", len(got.Messages))
	d.clk.Advance(time.Minute)
	for _, st := range []string{"delivered", "sent"} {
		cb := url.Values{
			"AccountSid": {twilioAccountSID}, "ApiVersion": {"2010-04-01"}, "MessageSid": {d.smsSID}, "SmsSid": {d.smsSID},
			"MessageStatus": {st}, "SmsStatus": {st}, "From": {hotelNumber}, "To": {d.danPhone},
		}
		label := "status callback " + st + " for " + d.smsSID
		if st == "sent" {
			label += " (late)"
		}
		if err := d.postTwilio(ctx, label, http.StatusOK, cb, cb); err != nil {
			return err
		}
	}
	sent, err := d.ib.Sent(ctx, inbox.SentQuery{Phone: d.danPhone, Kind: channel.SMS})
	if err != nil {
		return err
	}
	ds := sent.Deliveries
	for _, dl := range ds {
		fmt.Fprintf(d.out, "   %s is %s: the late \"sent\" does not lower it (S2)\n", dl.ProviderID, dl.Status.Current)
	}
	// A status callback for a message sent outside Parley (another app on
	// the same account): no retry would find it, so it is acknowledged and
	// logged, and the inbox reports it (inbox.EventUnknownStatus).
	elsewhere := "SM0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a"
	cb := url.Values{"AccountSid": {twilioAccountSID}, "ApiVersion": {"2010-04-01"}, "MessageSid": {elsewhere},
		"SmsSid": {elsewhere}, "MessageStatus": {"delivered"}, "SmsStatus": {"delivered"}, "From": {hotelNumber}, "To": {d.danPhone}}
	if err := d.postTwilio(ctx, "status callback for a message sent outside Parley", http.StatusOK, cb, cb); err != nil {
		return err
	}
	return nil
}

// postTwilio posts params signed over signed, as Twilio signs its
// requests, and checks the answer's status.
func (d *demo) postTwilio(ctx context.Context, label string, want int, params, signed url.Values) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.srv.URL+twilioPath, strings.NewReader(params.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(twilio.SignatureHeader, twilio.Signature(twilioAuthToken, d.srv.URL+twilioPath, signed))
	_, err = d.do(label, want, req)
	return err
}

// whatsApp plays Meta: the verification handshake, then a signed
// notification carrying Hélène's message and a status of the template.
func (d *demo) whatsApp(ctx context.Context) error {
	fmt.Fprintln(d.out, "\n== 4. Meta calls "+whatsAppPath)
	for _, c := range []struct {
		label, token string
		want         int
	}{
		{"GET verification handshake", metaVerifyToken, http.StatusOK},
		{"GET handshake, wrong verify token", "guessed-token", http.StatusForbidden},
	} {
		q := url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {c.token}, "hub.challenge": {"1158201444"}}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.srv.URL+whatsAppPath+"?"+q.Encode(), nil)
		if err != nil {
			return err
		}
		body, err := d.do(c.label, c.want, req)
		if err != nil {
			return err
		}
		if c.want == http.StatusOK {
			fmt.Fprintf(d.out, "   challenge echoed: %s\n", body)
		}
	}

	d.clk.Advance(2 * time.Minute)
	d.inboundWAMsg = "wamid.HBgLMzM2MTIzNDU2NzgVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
	ts := strconv.FormatInt(d.clk.Now().Unix(), 10)
	wa := strings.TrimPrefix(d.helenePhone, "+")
	notification := map[string]any{
		"object": "whatsapp_business_account",
		"entry": []any{map[string]any{
			"id": "102290129340398",
			"changes": []any{map[string]any{
				"field": "messages",
				"value": map[string]any{
					"messaging_product": "whatsapp",
					"metadata":          map[string]any{"display_phone_number": strings.TrimPrefix(hotelNumber, "+"), "phone_number_id": waPhoneNumberID},
					"contacts":          []any{map[string]any{"profile": map[string]any{"name": "Hélène Martin"}, "wa_id": wa}},
					"messages": []any{map[string]any{
						"from": wa, "id": d.inboundWAMsg, "timestamp": ts, "type": "text",
						"text": map[string]any{"body": "Thank you! We will arrive around 18:00."},
					}},
					"statuses": []any{map[string]any{
						"id": d.waID, "status": "read", "timestamp": ts, "recipient_id": wa,
					}},
				},
			}},
		}},
	}
	body, err := json.Marshal(notification)
	if err != nil {
		return err
	}
	if err := d.postWhatsApp(ctx, "notification: Hélène's message + status read, signed", http.StatusOK, body, whatsapp.Signature(metaAppSecret, body)); err != nil {
		return err
	}
	return d.postWhatsApp(ctx, "same notification signed with another secret", http.StatusForbidden, body, whatsapp.Signature("not-the-app-secret", body))
}

func (d *demo) postWhatsApp(ctx context.Context, label string, want int, body []byte, signature string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.srv.URL+whatsAppPath, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(whatsapp.SignatureHeader, signature)
	_, err = d.do(label, want, req)
	return err
}

// email plays the inbound-mail relay: Hélène's reply to the hotel's email,
// a mail from her work address to her thread's reply address, and a replay
// of a message signed too long ago.
func (d *demo) email(ctx context.Context) error {
	fmt.Fprintln(d.out, "\n== 5. The email relay calls "+emailPath)
	d.clk.Advance(5 * time.Minute)
	reply := rfc822(d.clk.Now(),
		"From: =?UTF-8?Q?H=C3=A9l=C3=A8ne_Martin?= <"+d.heleneEmail+">",
		"To: =?UTF-8?Q?H=C3=B4tel_des_Tilleuls?= <front@hotel.example>",
		"Subject: Re: Your stay",
		"Message-ID: <CAF7d2a91@mail.example.fr>",
		"In-Reply-To: <"+d.emailMsgID+">",
		"",
		"Could we have a quiet room, away from the street?",
		"",
		"On Fri, 20 Mar 2026 at 10:00, Hôtel des Tilleuls <front@hotel.example> wrote:",
		"> Dear Hélène, we look forward to welcoming you on Monday.",
	)
	if err := d.postEmail(ctx, "Hélène's reply, signed by the relay", http.StatusOK, reply, d.clk.Now()); err != nil {
		return err
	}
	// The host put this per-thread address in Reply-To; a reply from an
	// address the directory does not know still lands in Hélène's thread.
	addr, err := email.ReplyAddress([]byte(replySecret), replyBase, d.threads["g-helene"].ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "   Hélène's thread reply address: %s\n", addr)
	d.clk.Advance(time.Minute)
	work := rfc822(d.clk.Now(),
		"From: Helene Martin <"+d.heleneWorkAt+">",
		"To: <"+addr+">",
		"Subject: Invoice",
		"Message-ID: <20260320.0931@work.example>",
		"",
		"Please send the invoice to my company, Atelier Martin SARL.",
	)
	if err := d.postEmail(ctx, "mail from her work address to the reply address", http.StatusOK, work, d.clk.Now()); err != nil {
		return err
	}
	return d.postEmail(ctx, "her reply replayed with a 10-minute-old signature", http.StatusForbidden, reply, d.clk.Now().Add(-10*time.Minute))
}

// postEmail posts a raw message signed at t, as the relay does.
func (d *demo) postEmail(ctx context.Context, label string, want int, raw []byte, t time.Time) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.srv.URL+emailPath, bytes.NewReader(raw))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "message/rfc822")
	req.Header.Set(email.SignatureHeader, email.Sign([]byte(relaySecret), t, raw))
	_, err = d.do(label, want, req)
	return err
}

// rfc822 builds a plain-text UTF-8 message dated date from header lines, a
// blank line and body lines, with CRLF line ends.
func rfc822(date time.Time, lines ...string) []byte {
	var b bytes.Buffer
	header := true
	for _, l := range lines {
		if header && l == "" {
			b.WriteString("Date: " + date.Format(time.RFC1123Z) + "\r\nMIME-Version: 1.0\r\n" +
				"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n")
			header = false
		}
		b.WriteString(l)
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

// report prints what the handlers fed into the inbox: the thread list, each
// thread's messages and every delivery's status.
func (d *demo) report(ctx context.Context) error {
	fmt.Fprintln(d.out, "\n== 6. What the inbox holds now")
	page, err := d.ib.Threads(ctx, inbox.ThreadQuery{})
	if err != nil {
		return err
	}
	for _, t := range page.Threads {
		fmt.Fprintf(d.out, "thread %s: %d messages, %d unread, last %s\n", t.DisplayName(),
			t.Messages, t.Unread, t.LastMessageAt.Format("15:04"))
		msgs, err := d.ib.Messages(ctx, inbox.MessageQuery{ThreadID: t.ID, Limit: 50})
		if err != nil {
			return err
		}
		for _, m := range msgs.Messages {
			from := "hotel →"
			if m.Direction == inbox.Inbound {
				from = "guest ←"
			}
			text := strconv.Quote(m.Text)
			if m.Templated {
				text = "template " + m.Template + ": " + text
			}
			fmt.Fprintf(d.out, "   %s %-8s %s %-25s %s\n", m.SentAt.Format("15:04"), m.Kind, from, m.Address, text)
		}
	}
	all, err := d.ib.Sent(ctx, inbox.SentQuery{Limit: 20})
	if err != nil {
		return err
	}
	ds := all.Deliveries
	fmt.Fprintln(d.out, "deliveries of the hotel's messages:")
	for _, dl := range ds {
		var hist []string
		for _, c := range dl.Status.History {
			hist = append(hist, c.Status.String())
		}
		fmt.Fprintf(d.out, "   %-8s %-16s %-9s history %s\n", dl.Kind, dl.ProviderID, dl.Status.Current, strings.Join(hist, " → "))
	}
	return nil
}

// do sends a request to the server, prints the answer's status and returns
// its body. It fails the program when the status is not the one the handler
// should give.
func (d *demo) do(label string, want int, req *http.Request) (string, error) {
	resp, err := d.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("webhooks: %s: %w", label, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("webhooks: %s: %w", label, err)
	}
	fmt.Fprintf(d.out, "%-56s → %d %s\n", label, resp.StatusCode, http.StatusText(resp.StatusCode))
	if resp.StatusCode != want {
		return "", fmt.Errorf("webhooks: %s: HTTP %d, want %d: %s", label, resp.StatusCode, want, strings.TrimSpace(string(body)))
	}
	return string(body), nil
}

func cloneValues(v url.Values) url.Values {
	c := make(url.Values, len(v))
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}
