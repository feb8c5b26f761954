package recipient

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
)

var now = time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)

func newTestRules(t testing.TB, opts Options) *Rules {
	t.Helper()
	r, err := NewRules(opts)
	if err != nil {
		t.Fatalf("NewRules: %v", err)
	}
	return r
}

// full is a contact reachable on every channel, with consent everywhere.
func full() Contact {
	return Contact{
		ID: "c1", FirstName: "Hélène", LastName: "Dupont",
		Email: "helene@example.fr", Phone: "+33612345678",
		PushTokens: []string{"tok-1"}, AirbnbID: "thread-9",
		Consent: NewKindSet(channel.Kinds()...),
	}
}

func with(f func(*Contact)) Contact {
	c := full()
	f(&c)
	return c
}

// open is the facts of a send that every channel accepts: WhatsApp window
// open, the Airbnb guest has written.
var open = Facts{LastInboundWhatsApp: now.Add(-time.Hour), GuestWrote: true, Now: now}

// R2, C10, C11, R7: every verdict and reason, by rule.
func TestCheck(t *testing.T) {
	rules := newTestRules(t, Options{})
	strict := newTestRules(t, Options{StrictConsent: true})
	oneWay := &channel.Identity{ID: "alpha", Kind: channel.SMS, Address: "STUDIO", TwoWay: false}
	twoWay := &channel.Identity{ID: "num", Kind: channel.SMS, Address: "+33700000000", TwoWay: true}

	tests := []struct {
		name    string
		rules   *Rules
		contact Contact
		kind    channel.Kind
		purpose Purpose
		facts   Facts
		level   Level
		reasons []error // matched in order with errors.Is
		info    []error
	}{
		// R2 eligible on every channel.
		{"R2 email eligible", rules, full(), channel.Email, Marketing, open, Eligible, nil, nil},
		{"R2 sms eligible", rules, full(), channel.SMS, Marketing, open, Eligible, nil, nil},
		{"R2 mms eligible", rules, full(), channel.MMS, Transactional, open, Eligible, nil, nil},
		{"R2 push eligible", rules, full(), channel.Push, Transactional, open, Eligible, nil, nil},
		{"R2 whatsapp eligible in window", rules, full(), channel.WhatsApp, Transactional, open, Eligible, nil, nil},
		{"R2 airbnb eligible after guest wrote", rules, full(), channel.Airbnb, Transactional, open, Eligible, nil, nil},

		// R2 blocked: no address, invalid address, opted out, no device.
		{"R2 no email", rules, with(func(c *Contact) { c.Email = "" }), channel.Email, Transactional, open, Blocked, []error{ErrNoAddress}, nil},
		{"R2 blank email", rules, with(func(c *Contact) { c.Email = "  " }), channel.Email, Transactional, open, Blocked, []error{ErrNoAddress}, nil},
		{"R2 no phone for sms", rules, with(func(c *Contact) { c.Phone = "" }), channel.SMS, Transactional, open, Blocked, []error{ErrNoAddress}, nil},
		{"R2 no phone for whatsapp", rules, with(func(c *Contact) { c.Phone = "" }), channel.WhatsApp, Transactional, open, Blocked, []error{ErrNoAddress}, nil},
		{"R2 no airbnb thread", rules, with(func(c *Contact) { c.AirbnbID = "" }), channel.Airbnb, Transactional, open, Blocked, []error{ErrNoAddress}, nil},
		{"R2 invalid email", rules, with(func(c *Contact) { c.Email = "helene@localhost" }), channel.Email, Transactional, open, Blocked, []error{ErrInvalidAddress}, nil},
		{"R1 R2 phone not stored in E.164", rules, with(func(c *Contact) { c.Phone = "06 12 34 56 78" }), channel.SMS, Transactional, open, Blocked, []error{ErrInvalidAddress}, nil},
		{"R2 phone with unknown country code", rules, with(func(c *Contact) { c.Phone = "+9991234567" }), channel.MMS, Transactional, open, Blocked, []error{ErrInvalidAddress}, nil},
		{"R2 opted out of sms", rules, with(func(c *Contact) { c.OptedOut = NewKindSet(channel.SMS) }), channel.SMS, Transactional, open, Blocked, []error{channel.ErrOptedOut}, nil},
		{"R2 opt-out is per channel", rules, with(func(c *Contact) { c.OptedOut = NewKindSet(channel.SMS) }), channel.Email, Transactional, open, Eligible, nil, nil},
		{"R2 push without device", rules, with(func(c *Contact) { c.PushTokens = nil }), channel.Push, Transactional, open, Blocked, []error{ErrNoDevice}, nil},
		{"R2 push with blank tokens only", rules, with(func(c *Contact) { c.PushTokens = []string{"", " "} }), channel.Push, Transactional, open, Blocked, []error{ErrNoDevice}, nil},
		{"R2 every blocking reason at once", rules, with(func(c *Contact) { c.Phone = "0612"; c.OptedOut = NewKindSet(channel.SMS) }), channel.SMS, Transactional, open, Blocked, []error{ErrInvalidAddress, channel.ErrOptedOut}, nil},

		// R2 marketing consent: a warning, or blocked under a strict policy.
		{"R2 marketing without consent warns", rules, with(func(c *Contact) { c.Consent = 0 }), channel.SMS, Marketing, open, Warning, []error{ErrNoConsent}, nil},
		{"R2 consent is per channel", rules, with(func(c *Contact) { c.Consent = NewKindSet(channel.Email) }), channel.SMS, Marketing, open, Warning, []error{ErrNoConsent}, nil},
		{"R2 transactional needs no consent", rules, with(func(c *Contact) { c.Consent = 0 }), channel.SMS, Transactional, open, Eligible, nil, nil},
		{"R2 strict policy blocks marketing without consent", strict, with(func(c *Contact) { c.Consent = 0 }), channel.Email, Marketing, open, Blocked, []error{ErrNoConsent}, nil},
		{"R2 strict policy: transactional unaffected", strict, with(func(c *Contact) { c.Consent = 0 }), channel.Email, Transactional, open, Eligible, nil, nil},
		{"R2 blocked wins over the consent warning", rules, with(func(c *Contact) { c.Consent = 0; c.Email = "" }), channel.Email, Marketing, open, Blocked, []error{ErrNoAddress}, nil},

		// C10 WhatsApp service window.
		{"C10 window closed after 24 h", rules, full(), channel.WhatsApp, Transactional, Facts{LastInboundWhatsApp: now.Add(-24 * time.Hour), Now: now}, Blocked, []error{channel.ErrWindowClosed}, nil},
		{"C10 window open just before 24 h", rules, full(), channel.WhatsApp, Transactional, Facts{LastInboundWhatsApp: now.Add(-24*time.Hour + time.Second), Now: now}, Eligible, nil, nil},
		{"C10 no inbound message: window closed", rules, full(), channel.WhatsApp, Transactional, Facts{}, Blocked, []error{channel.ErrWindowClosed}, nil},
		{"C10 approved template outside the window", rules, full(), channel.WhatsApp, Transactional, Facts{ApprovedTemplate: true}, Eligible, nil, nil},
		{"C10 window does not apply to sms", rules, full(), channel.SMS, Transactional, Facts{}, Eligible, nil, nil},

		// C11 Airbnb.
		{"C11 free text before the guest wrote", rules, full(), channel.Airbnb, Transactional, Facts{}, Blocked, []error{ErrGuestNotWritten}, nil},
		{"C11 automatic message starts the conversation", rules, full(), channel.Airbnb, Transactional, Facts{Automatic: true}, Eligible, nil, nil},

		// R7 two-way capability.
		{"R7 one-way sender: replies impossible", rules, full(), channel.SMS, Transactional, Facts{Identity: oneWay}, Eligible, nil, []error{ErrRepliesImpossible}},
		{"R7 two-way sender", rules, full(), channel.SMS, Transactional, Facts{Identity: twoWay}, Eligible, nil, nil},
		{"R7 info kept when blocked", rules, with(func(c *Contact) { c.Phone = "" }), channel.SMS, Transactional, Facts{Identity: oneWay}, Blocked, []error{ErrNoAddress}, []error{ErrRepliesImpossible}},

		// Bad input.
		{"invalid kind", rules, full(), channel.Kind(0), Transactional, open, Blocked, []error{channel.ErrUnknownKind}, nil},
		{"invalid purpose", rules, full(), channel.Email, Purpose(0), open, Blocked, []error{ErrInvalidPurpose}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.rules.Check(tt.contact, tt.kind, tt.purpose, tt.facts)
			if v.Level != tt.level {
				t.Fatalf("Level = %v, want %v (reasons %v)", v.Level, tt.level, v.Reasons)
			}
			matchAll(t, "Reasons", v.Reasons, tt.reasons)
			matchAll(t, "Info", v.Info, tt.info)
			err := v.Err()
			if (err != nil) != (tt.level == Blocked) {
				t.Fatalf("Err() = %v for level %v", err, v.Level)
			}
			for _, want := range tt.reasons {
				if tt.level == Blocked && !errors.Is(err, want) {
					t.Errorf("Err() = %v does not match %v", err, want)
				}
			}
			if v.Allowed() != (tt.level != Blocked) {
				t.Errorf("Allowed() = %v for level %v", v.Allowed(), v.Level)
			}
			for _, r := range append(append([]error(nil), v.Reasons...), v.Info...) {
				if !strings.HasPrefix(r.Error(), "recipient: ") {
					t.Errorf("reason %q lacks the package prefix", r)
				}
			}
		})
	}
}

func matchAll(t *testing.T, what string, got, want []error) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s = %v, want %d reasons matching %v", what, got, len(want), want)
	}
	for i := range want {
		if !errors.Is(got[i], want[i]) {
			t.Errorf("%s[%d] = %v, want a match for %v", what, i, got[i], want[i])
		}
	}
}

// R2: Check allocates nothing when the contact is eligible.
func TestCheckEligibleDoesNotAllocate(t *testing.T) {
	rules := newTestRules(t, Options{})
	c := full()
	allocs := testing.AllocsPerRun(200, func() {
		if v := rules.Check(c, channel.SMS, Marketing, Facts{}); v.Level != Eligible {
			t.Fatalf("Level = %v", v.Level)
		}
	})
	if allocs != 0 {
		t.Errorf("eligible Check allocates %v times, want 0", allocs)
	}
}

// C10: the window is measured at the caller's time (Facts.Now), with a
// configurable length: the rules hold no clock of their own.
func TestCheckWhatsAppWindowUsesCallersTime_C10(t *testing.T) {
	rules := newTestRules(t, Options{WhatsAppWindow: time.Hour})
	facts := Facts{LastInboundWhatsApp: now, Now: now}
	if v := rules.Check(full(), channel.WhatsApp, Transactional, facts); v.Level != Eligible {
		t.Fatalf("at the inbound message: %v %v", v.Level, v.Reasons)
	}
	if !rules.WhatsAppWindowOpen(now, now.Add(59*time.Minute)) || rules.WhatsAppWindowOpen(now, now.Add(time.Hour)) {
		t.Error("WhatsAppWindowOpen does not judge the window at the time given")
	}
	facts.Now = now.Add(time.Hour)
	v := rules.Check(full(), channel.WhatsApp, Transactional, facts)
	if !errors.Is(v.Err(), channel.ErrWindowClosed) {
		t.Fatalf("an hour later: %v, want window closed", v.Err())
	}
	if channel.Retryable(v.Err()) {
		t.Error("a closed window is retryable; want permanent")
	}
}

func TestNewRulesRejectsBadOptions(t *testing.T) {
	for name, opts := range map[string]Options{
		"unknown region":   {DefaultRegion: "XX"},
		"negative window":  {WhatsAppWindow: -time.Hour},
		"bad quiet hours":  {QuietHours: QuietHours{Start: Clock{Hour: 25}}},
		"bad quiet minute": {QuietHours: QuietHours{End: Clock{Minute: 60}}},
	} {
		if _, err := NewRules(opts); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%s: NewRules error %v, want ErrInvalidOptions", name, err)
		}
	}
	if _, err := NewRules(Options{DefaultRegion: "fr"}); err != nil {
		t.Errorf("lower-case region refused: %v", err)
	}
}

// R1, R6: Normalize stores phones in E.164 and emails validated.
func TestNormalize_R1_R6(t *testing.T) {
	rules := newTestRules(t, Options{DefaultRegion: "FR"})
	c, err := rules.Normalize(Contact{
		ID: "c1", FirstName: " Hélène ", Phone: "06 12 34 56 78", Email: " Helene@Example.FR ",
		PushTokens: []string{"a", " ", "a", "b"}, TimeZone: "Europe/Paris",
	})
	if err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	if c.Phone != "+33612345678" || c.Email != "Helene@example.fr" || c.FirstName != "Hélène" {
		t.Errorf("Normalize = phone %q email %q name %q", c.Phone, c.Email, c.FirstName)
	}
	if strings.Join(c.PushTokens, ",") != "a,b" {
		t.Errorf("PushTokens = %q, want [a b]", c.PushTokens)
	}
	if v := rules.Check(c, channel.SMS, Transactional, Facts{}); v.Level != Eligible {
		t.Errorf("normalised contact not eligible for SMS: %v", v.Reasons)
	}

	bad := Contact{ID: "c2", Phone: "0612", Email: "nope", TimeZone: "Mars/Olympus"}
	got, err := rules.Normalize(bad)
	for _, want := range []error{ErrInvalidPhone, ErrInvalidEmail, ErrInvalidTimeZone} {
		if !errors.Is(err, want) {
			t.Errorf("Normalize error %v does not match %v", err, want)
		}
	}
	if got.Phone != bad.Phone || got.Email != bad.Email {
		t.Errorf("invalid fields changed: %+v", got)
	}
}

// The zero Rules is usable and behaves as NewRules(Options{}).
func TestZeroRules(t *testing.T) {
	var r Rules
	if v := r.Check(full(), channel.SMS, Transactional, Facts{}); v.Level != Eligible {
		t.Errorf("zero Rules: %v %v", v.Level, v.Reasons)
	}
	if v := r.Check(with(func(c *Contact) { c.Phone = "+9991234567" }), channel.SMS, Transactional, Facts{}); v.Level != Blocked {
		t.Errorf("zero Rules accepts an unknown country code")
	}
	if v := r.Check(full(), channel.WhatsApp, Transactional, Facts{LastInboundWhatsApp: time.Now().Add(-time.Hour)}); v.Level != Eligible {
		t.Errorf("zero Rules WhatsApp window: %v %v", v.Level, v.Reasons)
	}
	if _, err := r.Normalize(Contact{ID: "x", TimeZone: "Europe/Paris"}); err != nil {
		t.Errorf("zero Rules Normalize: %v", err)
	}
	due := time.Date(2026, 6, 15, 23, 0, 0, 0, time.UTC)
	if got := r.SendTime(due, Contact{}, Marketing); !got.Equal(due) {
		t.Errorf("zero Rules hold a message: %v", got)
	}
}

// R2, C10: a reason about a channel says which one (errors.As gives a
// *KindError with its kind) and matches its sentinel (errors.Is).
func TestReasonsNameTheirKind(t *testing.T) {
	rules := newTestRules(t, Options{StrictConsent: true, WhatsAppWindow: 48 * time.Hour})
	cases := []struct {
		name string
		c    Contact
		kind channel.Kind
		want error
	}{
		{"no address", with(func(c *Contact) { c.Email = "" }), channel.Email, ErrNoAddress},
		{"invalid address", with(func(c *Contact) { c.Phone = "0612" }), channel.MMS, ErrInvalidAddress},
		{"opted out", with(func(c *Contact) { c.OptedOut = NewKindSet(channel.SMS) }), channel.SMS, channel.ErrOptedOut},
		{"no consent", with(func(c *Contact) { c.Consent = 0 }), channel.Email, ErrNoConsent},
		{"window closed", full(), channel.WhatsApp, channel.ErrWindowClosed},
	}
	for _, tc := range cases {
		v := rules.Check(tc.c, tc.kind, Marketing, Facts{Now: now})
		var ke *KindError
		if !errors.As(v.Err(), &ke) || ke.Kind != tc.kind || !errors.Is(ke, tc.want) {
			t.Errorf("%s: reason %v, want a *KindError of %s matching %v", tc.name, v.Err(), tc.kind, tc.want)
		}
	}
}
