package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

// The quickstart tells the truth: each rule it shows holds.
func TestQuickstart(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"registered: [email sms]",
		"a WhatsApp send is refused (C1): channel: whatsapp not registered",
		"smart encoding replaces 5 characters -> GSM-7",                    // C6
		"webhook sent      -> kept delivered (new event: true)",            // S2
		"webhook delivered -> kept delivered (new event: false)",           // S3: a duplicate
		"history: validated 08:00:01 → sent 08:00:02 → delivered 08:00:03", // S3
		".GiftCard.Value at 1:51 cannot be filled (scope_unavailable)",     // C5
		"not selectable: m-zoe (recipient: no sms address)",                // R3
		"warning: m-marc (recipient: no marketing consent for sms)",
		"smartlist message to 3 recipients: delivered=3", // M2, S5
		`session message rendered for the booked attendee: "Hi Marc, see you at Pilates at 18:00!"`,
		`sent to Marc: "Hi Marc, see you at Pilates at 18:00!" (validated, 1 segment(s))`, // M1: what he got
		"the gift-card template is refused for the session: a session message cannot fill .GiftCard.Value (C5)",
		`Pilates 18:00          unread 0  last 08:00  "Hi {First name}, see you at Pilates at 18:00!"`, // M2: human text
		"then cancelled before it went: 3 deliveries cancelled",                                        // C8
		"attention badge: 1 (Hélène's thread is muted)",                                                // T7, T15
		`search "06 87 65 43 21" -> [Marc Martin]`,                                                     // T13
		`Inès opted out of SMS after replying "Arrêt": true`,                                           // R5
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q\n%s", want, out.String())
		}
	}
	// every line reads well to a newcomer: no raw values, no template
	// source, no error that names its package twice
	for _, line := range strings.Split(out.String(), "\n") {
		for _, raw := range []string{"<nil>", "%!", "{{", "channel: channel", "recipient: recipient"} {
			if strings.Contains(line, raw) {
				t.Errorf("a line shows %q: %s", raw, line)
			}
		}
		if strings.Count(line, "channel") > 1 && strings.Contains(line, "channel:") {
			t.Errorf("a line names the channel package twice: %s", line)
		}
	}
	// T8, T9: the favourite is first, the archived thread is gone
	list := out.String()[strings.LastIndex(out.String(), "-- list after answering Marc:"):]
	lines := strings.Split(list, "\n")
	if !strings.Contains(lines[1], "Pilates 18:00") || strings.Contains(list, "+33700000099") {
		t.Errorf("final list:\n%s", list)
	}
}

// With PARLEY_POSTGRES_DSN set, the quickstart on PostgreSQL tells the same
// story as on memstore, line for line.
func TestQuickstartPostgresSameStory(t *testing.T) {
	dsn := os.Getenv("PARLEY_POSTGRES_DSN")
	if dsn == "" {
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
