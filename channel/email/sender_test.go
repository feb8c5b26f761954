package email

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	message "github.com/emersion/go-message"
	gomail "github.com/emersion/go-message/mail"
	"github.com/emersion/go-smtp"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/status"
)

var t0 = time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)

func fixedClock() time.Time { return t0 }

func senderFor(t testing.TB, ts *testServer, mod func(*Config)) *Sender {
	t.Helper()
	cfg := Config{
		Host:      "127.0.0.1",
		Port:      ts.port,
		TLSConfig: &tls.Config{RootCAs: ts.roots, MinVersion: tls.VersionTLS12},
		From:      channel.Identity{Address: "hello@studio.example", Name: "Studio Zen"},
		HELO:      "parley.test",
		Timeout:   10 * time.Second,
		Now:       fixedClock,
	}
	switch ts.script.tls {
	case "":
		cfg.TLS = NoTLS
	case "implicit":
		cfg.TLS = ImplicitTLS
	}
	if ts.script.authUser != "" {
		cfg.Username, cfg.Password = ts.script.authUser, ts.script.authPass
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func baseMessage() *channel.Message {
	return &channel.Message{
		Kind:    channel.Email,
		To:      "hélène@example.org",
		Subject: "Votre séance de yoga ✓",
		Text:    "Bonjour Hélène,\nà demain 9h.",
		HTML:    "<p>Bonjour <b>Hélène</b>,<br>à demain 9h.</p>",
	}
}

// parsed is a received message opened with go-message.
type parsed struct {
	header gomail.Header
	parts  map[string]string // media type -> decoded body
	files  map[string][]byte // attachment file name -> content
	types  []string          // media types in order, multipart included
}

func openMessage(t *testing.T, data []byte) parsed {
	t.Helper()
	e, err := message.Read(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("received message does not parse: %v\n%s", err, data)
	}
	p := parsed{header: gomail.Header{Header: e.Header}, parts: map[string]string{}, files: map[string][]byte{}}
	err = e.Walk(func(path []int, part *message.Entity, err error) error {
		if err != nil {
			return err
		}
		mt, _, _ := part.Header.ContentType()
		p.types = append(p.types, mt)
		if strings.HasPrefix(mt, "multipart/") {
			return nil
		}
		b, err := io.ReadAll(part.Body)
		if err != nil {
			return err
		}
		if disp, params, _ := part.Header.ContentDisposition(); disp == "attachment" {
			p.files[params["filename"]] = b
			return nil
		}
		p.parts[mt] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The message that arrives at a real SMTP server carries the sender
// identity (C9), Reply-To, threading headers, the Message-ID recorded as
// ProviderID, and text and HTML as multipart/alternative.
func TestSendDeliversMultipartWithHeaders(t *testing.T) {
	ts := newTestServer(t, serverScript{tls: "starttls", authUser: "studio", authPass: "s3cret"})
	s := senderFor(t, ts, nil)
	msg := baseMessage()
	msg.From = channel.Identity{Address: "desk@studio.example", Name: "Accueil Studio"}
	msg.ReplyTo = "reply+th_1.abcdefghijklmnop@in.studio.example"
	msg.InReplyTo = "<abc123@mail.example.org>"
	msg.Attachments = []channel.Attachment{{Name: "planning.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.4 planning")}}

	rc, err := s.Send(context.Background(), msg)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if rc.Status != status.Validated || !rc.At.Equal(t0) {
		t.Errorf("receipt = %+v, want Validated at %v", rc, t0)
	}
	if !strings.HasSuffix(rc.ProviderID, "@studio.example") || strings.ContainsAny(rc.ProviderID, "<>") {
		t.Errorf("ProviderID %q: want token@studio.example without brackets", rc.ProviderID)
	}
	got := ts.got()
	if len(got) != 1 {
		t.Fatalf("server received %d messages, want 1", len(got))
	}
	r := got[0]
	if r.From != "desk@studio.example" || len(r.Rcpts) != 1 || r.Rcpts[0] != "hélène@example.org" {
		t.Errorf("envelope = %q -> %q", r.From, r.Rcpts)
	}
	if r.User != "studio" || !r.TLS {
		t.Errorf("auth user %q, TLS %v: want AUTH as studio over STARTTLS", r.User, r.TLS)
	}
	p := openMessage(t, r.Data)
	from, _ := p.header.AddressList("From")
	if len(from) != 1 || from[0].Name != "Accueil Studio" || from[0].Address != "desk@studio.example" {
		t.Errorf("From = %v", from)
	}
	if rt, _ := p.header.AddressList("Reply-To"); len(rt) != 1 || rt[0].Address != msg.ReplyTo {
		t.Errorf("Reply-To = %v", rt)
	}
	if subj, _ := p.header.Subject(); subj != msg.Subject {
		t.Errorf("Subject = %q", subj)
	}
	if id, _ := p.header.MessageID(); id != rc.ProviderID {
		t.Errorf("Message-ID %q, ProviderID %q", id, rc.ProviderID)
	}
	if v := p.header.Get("In-Reply-To"); v != "<abc123@mail.example.org>" {
		t.Errorf("In-Reply-To = %q", v)
	}
	if v := p.header.Get("References"); v != "<abc123@mail.example.org>" {
		t.Errorf("References = %q", v)
	}
	if d, _ := p.header.Date(); !d.Equal(t0) {
		t.Errorf("Date = %v, want %v", d, t0)
	}
	if want := []string{"multipart/mixed", "multipart/alternative", "text/plain", "text/html", "application/pdf"}; strings.Join(p.types, ",") != strings.Join(want, ",") {
		t.Errorf("MIME structure %v, want %v", p.types, want)
	}
	if strings.TrimSpace(strings.ReplaceAll(p.parts["text/plain"], "\r\n", "\n")) != msg.Text {
		t.Errorf("text part = %q", p.parts["text/plain"])
	}
	if !strings.Contains(p.parts["text/html"], "<b>Hélène</b>") {
		t.Errorf("html part = %q", p.parts["text/html"])
	}
	if string(p.files["planning.pdf"]) != "%PDF-1.4 planning" {
		t.Errorf("attachment = %q", p.files["planning.pdf"])
	}
}

// An HTML-only message still gets a text alternative; the configured From
// is used when the message names none (C9).
func TestSendHTMLOnlyGetsTextPartAndDefaultFrom(t *testing.T) {
	ts := newTestServer(t, serverScript{})
	s := senderFor(t, ts, nil)
	msg := baseMessage()
	msg.Text = ""
	msg.HTML += "<blockquote>Best studio in town</blockquote>"
	if _, err := s.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	p := openMessage(t, ts.got()[0].Data)
	if from, _ := p.header.AddressList("From"); len(from) != 1 || from[0].String() != `"Studio Zen" <hello@studio.example>` {
		t.Errorf("From = %v", from)
	}
	if got := strings.ReplaceAll(p.parts["text/plain"], "\r\n", "\n"); !strings.Contains(got, "Bonjour Hélène,\nà demain 9h.") {
		t.Errorf("generated text part = %q", got)
	}
	if got := p.parts["text/plain"]; !strings.Contains(got, "Best studio in town") {
		t.Errorf("outbound text part lost the blockquote: %q", got)
	}
}

// Implicit TLS (port 465 style) and opportunistic STARTTLS against a server
// without STARTTLS both deliver.
func TestSendTLSModes(t *testing.T) {
	t.Run("implicit", func(t *testing.T) {
		ts := newTestServer(t, serverScript{tls: "implicit", authUser: "u", authPass: "p"})
		s := senderFor(t, ts, func(c *Config) { c.Auth = AuthPlain })
		if _, err := s.Send(context.Background(), baseMessage()); err != nil {
			t.Fatal(err)
		}
		if r := ts.got(); len(r) != 1 || !r[0].TLS || r[0].User != "u" {
			t.Fatalf("received %+v", r)
		}
	})
	t.Run("opportunistic without STARTTLS", func(t *testing.T) {
		ts := newTestServer(t, serverScript{})
		s := senderFor(t, ts, func(c *Config) { c.TLS = StartTLSOpportunistic })
		if _, err := s.Send(context.Background(), baseMessage()); err != nil {
			t.Fatal(err)
		}
		if r := ts.got(); len(r) != 1 || r[0].TLS {
			t.Fatalf("received %+v", r)
		}
	})
	t.Run("required but not offered", func(t *testing.T) {
		ts := newTestServer(t, serverScript{})
		s := senderFor(t, ts, func(c *Config) { c.TLS = StartTLSRequired })
		_, err := s.Send(context.Background(), baseMessage())
		if !errors.Is(err, channel.ErrPermanent) || channel.Retryable(err) {
			t.Fatalf("err = %v, want permanent", err)
		}
		if len(ts.got()) != 0 {
			t.Fatal("message sent in plain text although STARTTLS is required")
		}
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		ts := newTestServer(t, serverScript{tls: "starttls"})
		s := senderFor(t, ts, func(c *Config) { c.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12} })
		_, err := s.Send(context.Background(), baseMessage())
		if !errors.Is(err, channel.ErrPermanent) {
			t.Fatalf("err = %v, want permanent", err)
		}
		if len(ts.got()) != 0 {
			t.Fatal("message sent to an untrusted server")
		}
	})
}

// SMTP replies map to *SMTPError: 4xx transient, 5xx permanent, with the
// code and enhanced code readable through errors.As.
func TestSendSMTPErrorsClassified(t *testing.T) {
	cases := []struct {
		name      string
		script    serverScript
		code      int
		enhanced  string
		stage     string
		retryable bool
	}{
		{"unknown user", serverScript{rcptErr: &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}}, 550, "5.1.1", "rcpt", false},
		{"greylisted", serverScript{rcptErr: &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "Greylisted, try later"}}, 450, "4.7.1", "rcpt", true},
		{"mailbox full at data", serverScript{dataErr: &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 2, 2}, Message: "Mailbox full"}}, 452, "4.2.2", "data", true},
		{"content rejected", serverScript{dataErr: &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Message rejected as spam"}}, 554, "5.7.1", "data", false},
		{"bad password", serverScript{tls: "starttls", authUser: "u", authPass: "right"}, 535, "5.7.8", "auth", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, tc.script)
			s := senderFor(t, ts, func(c *Config) {
				if tc.script.authUser != "" {
					c.Password = "wrong"
				}
			})
			_, err := s.Send(context.Background(), baseMessage())
			var se *SMTPError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v (%T), want *SMTPError", err, err)
			}
			if se.Code != tc.code || se.EnhancedCode != tc.enhanced || se.Stage != tc.stage {
				t.Errorf("SMTPError = %+v, want code %d enhanced %s stage %s", se, tc.code, tc.enhanced, tc.stage)
			}
			if se.Message == "" || strings.Contains(se.Message, "affected") {
				t.Errorf("Message = %q, want the server's reply text", se.Message)
			}
			if channel.Retryable(err) != tc.retryable {
				t.Errorf("Retryable = %v, want %v", channel.Retryable(err), tc.retryable)
			}
			if tc.retryable && !errors.Is(err, channel.ErrTransient) || !tc.retryable && !errors.Is(err, channel.ErrPermanent) {
				t.Errorf("err %v has the wrong class", err)
			}
			if len(ts.got()) != 0 {
				t.Error("server recorded a refused message")
			}
		})
	}
}

// A connection dropped after the data was sent leaves the outcome unknown:
// not retryable, so the message is not sent twice.
func TestSendDroppedAfterDataIsUnknown(t *testing.T) {
	ts := newTestServer(t, serverScript{dropData: true})
	s := senderFor(t, ts, nil)
	_, err := s.Send(context.Background(), baseMessage())
	if !errors.Is(err, ErrDeliveryUnknown) || channel.Retryable(err) {
		t.Fatalf("err = %v, want ErrDeliveryUnknown and not retryable", err)
	}
}

// A server that is not there is a transient failure.
func TestSendConnectionRefusedIsTransient(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Host: "127.0.0.1", Port: port, TLS: NoTLS, From: channel.Identity{Address: "a@studio.example"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Send(context.Background(), baseMessage())
	if !errors.Is(err, channel.ErrTransient) || !channel.Retryable(err) {
		t.Fatalf("err = %v, want transient", err)
	}
}

// Cancelling the context ends a send that waits on the server, and the
// error matches the context's.
func TestSendHonoursContext(t *testing.T) {
	block := make(chan struct{})
	ts := newTestServer(t, serverScript{blockData: block, inData: make(chan struct{})})
	defer close(block)
	s := senderFor(t, ts, nil)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := s.Send(ctx, baseMessage())
		errc <- err
	}()
	<-ts.script.inData
	cancel()
	err := <-errc
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}

	done, stop := context.WithCancel(context.Background())
	stop()
	if _, err := s.Send(done, baseMessage()); !errors.Is(err, context.Canceled) {
		t.Fatalf("send on a done context: err = %v", err)
	}
}

// Messages that cannot be sent as email are refused before any connection
// (C2, C3), as ErrInvalidMessage and permanent.
func TestSendRefusesInvalidMessages(t *testing.T) {
	ts := newTestServer(t, serverScript{})
	s := senderFor(t, ts, nil)
	mods := map[string]func(m *channel.Message){
		"nil":           nil,
		"no recipient":  func(m *channel.Message) { m.To = "" },
		"bad recipient": func(m *channel.Message) { m.To = "not-an-address" },
		"blank subject": func(m *channel.Message) { m.Subject = "  " },
		"no body":       func(m *channel.Message) { m.Text, m.HTML = "", " " },
		"template":      func(m *channel.Message) { m.Template = &channel.TemplateRef{Name: "welcome"} },
		"scheduled":     func(m *channel.Message) { m.SendAt = t0.Add(time.Hour) },
		"url attachment": func(m *channel.Message) {
			m.Attachments = []channel.Attachment{{Name: "a.jpg", URL: "https://x/a.jpg"}}
		},
		"wrong kind":      func(m *channel.Message) { m.Kind = channel.SMS },
		"bad reply-to":    func(m *channel.Message) { m.ReplyTo = "nope" },
		"bad in-reply-to": func(m *channel.Message) { m.InReplyTo = "<a b>" },
		"bad from":        func(m *channel.Message) { m.From = channel.Identity{Address: "desk"} },
	}
	for name, mod := range mods {
		var msg *channel.Message
		if mod != nil {
			msg = baseMessage()
			mod(msg)
		}
		_, err := s.Send(context.Background(), msg)
		if !errors.Is(err, channel.ErrInvalidMessage) || !errors.Is(err, channel.ErrPermanent) {
			t.Errorf("%s: err = %v, want ErrInvalidMessage and ErrPermanent", name, err)
		}
	}
	if n := ts.connections(); n != 0 {
		t.Errorf("%d connections for invalid messages, want 0", n)
	}
}

// Line breaks in the subject cannot inject headers or recipients.
func TestSendSubjectCannotInjectHeaders(t *testing.T) {
	ts := newTestServer(t, serverScript{})
	s := senderFor(t, ts, nil)
	msg := baseMessage()
	msg.Subject = "Hello\r\nBcc: victim@evil.example\r\n\r\nbody"
	if _, err := s.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	r := ts.got()[0]
	if len(r.Rcpts) != 1 {
		t.Fatalf("recipients %v", r.Rcpts)
	}
	p := openMessage(t, r.Data)
	if p.header.Get("Bcc") != "" {
		t.Fatal("Bcc header injected")
	}
	if subj, _ := p.header.Subject(); strings.ContainsAny(subj, "\r\n") {
		t.Fatalf("subject kept a line break: %q", subj)
	}
}

// The Message-ID is random without a Reference and stable with one, so a
// retried send carries the same ID.
func TestSendMessageIDFromReference(t *testing.T) {
	ts := newTestServer(t, serverScript{})
	s := senderFor(t, ts, nil)
	send := func(ref string) string {
		m := baseMessage()
		m.Reference = ref
		rc, err := s.Send(context.Background(), m)
		if err != nil {
			t.Fatal(err)
		}
		return rc.ProviderID
	}
	a, b := send("delivery-42"), send("delivery-42")
	c, d := send(""), send("")
	if a != b {
		t.Errorf("same Reference, IDs %q and %q", a, b)
	}
	if c == d || c == a {
		t.Errorf("random IDs repeat: %q %q", c, d)
	}
}

// Sends from many goroutines share nothing: each arrives once with its own
// Message-ID.
func TestSendConcurrent(t *testing.T) {
	ts := newTestServer(t, serverScript{})
	s := senderFor(t, ts, nil)
	const n = 8
	var wg sync.WaitGroup
	ids := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := baseMessage()
			m.To = fmt.Sprintf("member%d@example.org", i)
			rc, err := s.Send(context.Background(), m)
			ids[i], errs[i] = rc.ProviderID, err
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if seen[ids[i]] {
			t.Fatalf("duplicate ID %q", ids[i])
		}
		seen[ids[i]] = true
	}
	if got := len(ts.got()); got != n {
		t.Fatalf("server received %d, want %d", got, n)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	good := Config{Host: "smtp.example.com", From: channel.Identity{Address: "a@studio.example"}}
	bad := map[string]func(*Config){
		"no host":       func(c *Config) { c.Host = "" },
		"no from":       func(c *Config) { c.From = channel.Identity{} },
		"bad port":      func(c *Config) { c.Port = 70000 },
		"bad tls":       func(c *Config) { c.TLS = 9 },
		"bad auth":      func(c *Config) { c.Auth = "KERBEROS" },
		"auth no user":  func(c *Config) { c.Auth = AuthPlain },
		"bad domain":    func(c *Config) { c.MessageIDDomain = "a b" },
		"neg timeout":   func(c *Config) { c.Timeout = -1 },
		"neg max bytes": func(c *Config) { c.MaxAttachmentBytes = -1 },
	}
	for name, mod := range bad {
		c := good
		mod(&c)
		if _, err := New(c); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: err = %v, want ErrConfig", name, err)
		}
	}
	s, err := New(good)
	if err != nil {
		t.Fatal(err)
	}
	if s.port != 587 || s.domain != "studio.example" {
		t.Errorf("defaults: port %d domain %q", s.port, s.domain)
	}
	caps := s.Capabilities()
	if !caps.SubjectRequired || !caps.HTML || caps.Attachments.MaxCount == 0 {
		t.Errorf("capabilities %+v", caps)
	}
}
