package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
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
		{"S4", "status callback delivered for SM000001 → 200 OK"},
		{"S2", "status callback sent for SM000001 (late) → 200 OK\nSM000001 is delivered"},
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
		{"S3", "sms SM000001 delivered history pending → validated → sent → delivered"},
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
