package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/inbox"
)

// runDemo runs the program and returns its output with the runs of spaces
// of every line collapsed, so that the assertions do not depend on column
// widths.
func runDemo(t *testing.T) string {
	t.Helper()
	var buf bytes.Buffer
	if err := run(context.Background(), &buf); err != nil {
		t.Fatalf("run: %v\noutput so far:\n%s", err, buf.String())
	}
	var lines []string
	for _, l := range strings.Split(buf.String(), "\n") {
		lines = append(lines, strings.Join(strings.Fields(l), " "))
	}
	return strings.Join(lines, "\n")
}

func TestWebhooksFeedTheInbox(t *testing.T) {
	out := runDemo(t)
	for _, c := range []struct {
		rule, want string
	}{
		// Twilio: the signature is checked before anything is stored; a
		// retried webhook is answered 200 and stored once (M5); status
		// callbacks merge order-independently (S2, S4).
		{"Twilio", "inbound SMS from Dan, signed → 200 OK"},
		{"Twilio", "same SMS, body changed after signing → 403 Forbidden"},
		{"M5", "same SMS again (Twilio retries) → 200 OK\nDan's thread holds 1 inbound message"},
		// A re-split capture verifies but is refused by its MessageSid's
		// shape; a status for a message sent outside Parley is acknowledged.
		{"M5", "same SMS re-split (NumMedia0 moved into MessageSid) → 400 Bad Request"},
		{"Twilio", "status callback for a message sent outside Parley → 200 OK"},
		{"S4", "status callback delivered for SM00000000000000000000000000000001 → 200 OK"},
		{"S2", "status callback sent for SM00000000000000000000000000000001 (late) → 200 OK\nSM00000000000000000000000000000001 is delivered"},
		// WhatsApp Cloud API: handshake, signed notification with a message
		// and a status, a wrong signature refused.
		{"WhatsApp", "GET verification handshake → 200 OK\nchallenge echoed: 1158201444"},
		{"WhatsApp", "GET handshake, wrong verify token → 403 Forbidden"},
		{"WhatsApp", "notification: Hélène's message + status read, signed → 200 OK"},
		{"WhatsApp", "same notification signed with another secret → 403 Forbidden"},
		// Email relay: signed reply, per-thread reply address, stale
		// signature refused.
		{"email", "Hélène's reply, signed by the relay → 200 OK"},
		{"email", "mail from her work address to the reply address → 200 OK"},
		{"email", "her reply replayed with a 10-minute-old signature → 403 Forbidden"},
		// What the handlers fed into the inbox: inbound messages in the
		// guests' threads (T2, M4), quoted history stripped, unread counts
		// (T5), statuses merged (S2, S3).
		{"T5", "thread Hélène Martin: 5 messages, 3 unread, last 09:12"},
		{"T2", `09:06 whatsapp guest ← +33612345678 "Thank you! We will arrive around 18:00."`},
		{"M4", `09:11 email guest ← helene.martin@example.fr "Could we have a quiet room, away from the street?"`},
		{"M4", `09:12 email guest ← h.martin@work.example "Please send the invoice to my company, Atelier Martin SARL."`},
		{"M5, T5", "thread Dan Walker: 2 messages, 1 unread, last 09:03"},
		{"S3", "sms SM00000000000000000000000000000001 delivered history pending → validated → sent → delivered"},
		{"S3", "whatsapp wamid.OUT000001 read history pending → validated → read"},
		{"S1", "email out-000001 validated history pending → validated"},
	} {
		if !strings.Contains(out, c.want) {
			t.Errorf("%s: output lacks %q", c.rule, c.want)
		}
	}
	// A tampered webhook never reaches the inbox.
	if strings.Contains(out, "refund my stay") {
		t.Error("the tampered Twilio body was stored")
	}
	// The retried webhook and the replayed email are stored once each (M5).
	if n := strings.Count(out, "Can I park on site?"); n != 1 {
		t.Errorf("M5: Dan's SMS is listed %d times", n)
	}
	if n := strings.Count(out, "Could we have a quiet room"); n != 1 {
		t.Errorf("M5: Hélène's email is listed %d times", n)
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
}

// The demo uses a fixed clock and deterministic IDs and prints no port, so
// it prints the same thing on every run.
func TestWebhooksDemoIsDeterministic(t *testing.T) {
	if a, b := runDemo(t), runDemo(t); a != b {
		t.Fatalf("two runs differ:\n%s\n----\n%s", a, b)
	}
}

// trickle opens a connection to addr, sends head (request line and headers,
// one byte per tick when slowHead is set) and then up to bodyLen bytes of
// body, one per tick, until the server cuts it off. It returns how many body
// bytes were sent and what the server answered, if anything, before it
// closed the connection.
func trickle(t *testing.T, addr, head string, slowHead bool, bodyLen int) (sent int, answer string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The server's answer, read while the client writes.
	read := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(bufio.NewReader(conn))
		read <- string(b)
	}()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	write := func(b []byte) bool {
		select {
		case answer = <-read:
			return false
		case <-tick.C:
		}
		_, err := conn.Write(b)
		return err == nil
	}
	if slowHead {
		for i := range len(head) {
			if !write([]byte{head[i]}) {
				return 0, answer
			}
		}
	} else if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	for sent < bodyLen {
		if !write([]byte{'x'}) {
			return sent, answer
		}
		sent++
	}
	// Everything was sent: whatever the server does next, it did not cut
	// the client off.
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	select {
	case answer = <-read:
	case <-time.After(3 * time.Second):
	}
	return sent, answer
}

// The host's server cuts off a client that trickles its request one byte
// every 200 ms, on every webhook route: the timeouts of webhookServer end
// the read, the handler answers 408 (or the server drops a request whose
// headers never ended), the connection is closed long before the body is
// sent, and nothing reaches the inbox. The timeouts are shortened here so
// that the test runs in seconds; the program runs with hostTimeouts.
func TestServerCutsOffSlowClients(t *testing.T) {
	var out bytes.Buffer
	d, err := newDemo(&out, timeouts{ReadHeader: 400 * time.Millisecond, Read: 800 * time.Millisecond,
		Write: 2 * time.Second, Idle: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer d.ib.Close()
	defer d.srv.Close()
	addr := d.srv.Listener.Addr().String()
	const bodyLen = 150 // 30 s at one byte per 200 ms
	cases := []struct {
		name, path string
		slowHead   bool
	}{
		{"Twilio, trickled body", twilioPath, false},
		{"WhatsApp, trickled body", whatsAppPath, false},
		{"email, trickled body", emailPath, false},
		{"Twilio, trickled headers", twilioPath, true},
	}
	var wg sync.WaitGroup
	for _, c := range cases {
		wg.Go(func() {
			head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
				"Content-Length: %d\r\n\r\n", c.path, addr, bodyLen)
			sent, answer := trickle(t, addr, head, c.slowHead, bodyLen)
			if sent == bodyLen {
				t.Errorf("%s: the server read the whole trickled body without cutting it off (answer %q)", c.name, answer)
				return
			}
			if !c.slowHead && !strings.HasPrefix(answer, fmt.Sprintf("HTTP/1.1 %d", http.StatusRequestTimeout)) {
				t.Errorf("%s: answer %q, want 408", c.name, answer)
			}
		})
	}
	wg.Wait()
	page, err := d.ib.Threads(context.Background(), inbox.ThreadQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Threads) != 0 {
		t.Fatalf("a cut-off request reached the inbox: %d threads", len(page.Threads))
	}
}

// The program's server sets every timeout a host must set.
func TestHostTimeoutsAllSet(t *testing.T) {
	srv := webhookServer(http.NewServeMux(), hostTimeouts())
	for name, d := range map[string]time.Duration{"ReadHeaderTimeout": srv.ReadHeaderTimeout, "ReadTimeout": srv.ReadTimeout,
		"WriteTimeout": srv.WriteTimeout, "IdleTimeout": srv.IdleTimeout} {
		if d <= 0 {
			t.Errorf("%s not set", name)
		}
	}
	if srv.ReadTimeout < srv.ReadHeaderTimeout || srv.WriteTimeout > 15*time.Second {
		t.Errorf("read %s < header %s, or write %s over Twilio's 15 s wait", srv.ReadTimeout, srv.ReadHeaderTimeout, srv.WriteTimeout)
	}
}
