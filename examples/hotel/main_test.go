package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

// runStory runs the program and returns its output with the runs of spaces of
// every line collapsed, so that the assertions do not depend on column
// widths.
func runStory(t *testing.T) string {
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

func TestHotelStory(t *testing.T) {
	out := runStory(t)
	for _, c := range []struct {
		rule, want string
	}{
		// C10: free text inside the window, refused outside it with the
		// typed error, an approved utility template outside it.
		{"C10", "Fri 20 Mar 09:20 preflight free-text reply, 20 min after she wrote: ok cost 0.000 EUR\nsent wamid.000002 to +33612345678: validated"},
		{"C10", "Sat 21 Mar 10:00 preflight free text, 25 h after she wrote: blocked"},
		{"C10", "send refused: inbox: cannot send: recipient: whatsapp service window closed"},
		{"C10", "errors.Is(err, channel.ErrWindowClosed) = true"},
		{"C10", "preflight approved utility template arrival_details: ok cost 0.030 EUR\nsent wamid.000003 to +33612345678: validated"},
		{"C10, C5", `Hélène reads: "Hello Hélène, room 12 is ready for you from Mon 30 March, 15:00. Reply here if you need anything."`},
		// C11: an automatic first message, no manual one before the guest
		// wrote, free text afterwards.
		{"C11", "preflight manual free text before Dan wrote: blocked"},
		{"C11", "errors.Is(err, recipient.ErrGuestNotWritten) = true"},
		{"C11", "preflight automatic welcome message: ok cost 0.000 EUR\nsent AB000001 to abnb-7781: validated"},
		{"C11", "preflight manual free text after Dan wrote: ok cost 0.000 EUR\nsent AB000003 to abnb-7781: validated"},
		// C13: SMS per segment by country, templates by category, free
		// replies inside the window, Airbnb free.
		{"C13", "SMS to Hélène (+33), short: ok cost 0.072 EUR (GSM-7, 1 segment(s))"},
		{"C13", "SMS to Hélène (+33), long: ok cost 0.144 EUR (GSM-7, 2 segment(s))"},
		{"C13", "SMS to Dan (+1), long: ok cost 0.018 EUR (GSM-7, 2 segment(s))"},
		{"C13", "WhatsApp utility template: ok cost 0.030 EUR"},
		{"C13", "WhatsApp marketing template: ok cost 0.110 EUR"},
		{"C13", "Airbnb reply to Dan: ok cost 0.000 EUR"},
		{"C13", "WhatsApp free text, window open: ok cost 0.000 EUR"},
		// C15: 2 days before check-in at 10:00 Paris time, across the
		// change to summer time, following the booking when it moves.
		{"C15", "check-in Mon 30 Mar 15:00 CEST (13:00 UTC) → scheduled, due Sat 28 Mar 10:00 CET (09:00 UTC)"},
		{"C15", "check-in Fri 3 Apr 15:00 CEST (13:00 UTC) → MoveAnchor moved 1 message, due Wed 1 Apr 10:00 CEST (08:00 UTC)"},
		{"C15, C8", "dispatcher at Sat 28 Mar 10:00 CET (09:00 UTC), the old due time: 0 sent"},
		{"C15, C8", "dispatcher at Wed 1 Apr 10:00 CEST (08:00 UTC), the new due time: 1 sent"},
		// C5, C8, M1: the template is rendered again when it goes, with the
		// moved booking; the delivery stores what went, the message when.
		{"C5", `rendered for Hélène now: "Hôtel des Tilleuls: we look forward to your arrival on Mon 30 March, 15:00. Reply with your arrival time, Hélène!"`},
		{"C8, M1", `stored: scheduled for Wed 1 Apr 10:00 CEST (08:00 UTC), sent Wed 1 Apr 10:00 CEST (08:00 UTC), 2 segment(s): "Hôtel des Tilleuls: we look forward to your arrival on Fri 3 April, 15:00. Reply with your arrival time, Hélène!"`},
		// S2, S3: shuffled, duplicated webhooks; the highest status is kept
		// and the history holds every distinct event once, in event-time
		// order (a "sent" that arrives after "delivered" still shows).
		{"S2", "webhook wamid.000003 sent → keeps delivered"},
		{"S2, S3", "whatsapp wamid.000003 to +33612345678 read history pending → validated → sent → delivered → read"},
		{"S2, S3", "whatsapp wamid.000002 to +33612345678 read history pending → validated → sent → delivered → read"},
		// S1: a scheduled delivery is pending from the moment its dispatcher
		// hands it to the provider (marked as sending) until accepted.
		{"S1, S3", "sms SM000001 to +33612345678 delivered history scheduled → pending → validated → sent → delivered"},
		// T4, C8: the thread's preview is what went out.
		{"T4, C8", `Hélène Martin 5 messages, 1 unread, last Wed 1 Apr 10:00 CEST (08:00 UTC) "Hôtel des Tilleuls: we look forward to your arrival on Fri 3 April, 15:00.`},
		// T19: the details pane shows the booking as the PMS now has it.
		{"T19", "details pane: Hélène Martin, booking BK-1042, room 12, Fri 3 Apr 15:00 → Mon 6 Apr 11:00"},
	} {
		if !strings.Contains(out, c.want) {
			t.Errorf("%s: output lacks %q", c.rule, c.want)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
}

// The story uses an injected clock and a seeded shuffle (S2), so it prints
// the same thing on every run: the README can quote it.
func TestHotelStoryIsDeterministic(t *testing.T) {
	if a, b := runStory(t), runStory(t); a != b {
		t.Fatalf("two runs differ:\n%s\n----\n%s", a, b)
	}
}

// With PARLEY_POSTGRES_DSN set, the story on PostgreSQL is the story on
// memstore, line for line: every field the story reads back (rendered
// texts, scheduled and sent times, anchor rules, histories) is stored.
func TestHotelPostgresSameStory(t *testing.T) {
	if os.Getenv("PARLEY_POSTGRES_DSN") == "" {
		t.Skip("PARLEY_POSTGRES_DSN not set")
	}
	var pg, mem bytes.Buffer
	if err := run(context.Background(), &pg); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PARLEY_POSTGRES_DSN", "")
	if err := run(context.Background(), &mem); err != nil {
		t.Fatal(err)
	}
	if pg.String() != mem.String() {
		t.Fatalf("postgres:\n%s\nmemstore:\n%s", pg.String(), mem.String())
	}
}
