package recipient

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/channel"
)

// Purpose says why a message is sent, which decides whether marketing
// consent (R2) and quiet hours (R8) apply. The zero Purpose is invalid.
type Purpose uint8

const (
	// Transactional messages serve a booking or an account: confirmations,
	// reminders, replies. They need no marketing consent and are never held.
	Transactional Purpose = iota + 1
	// Marketing messages promote: offers, newsletters, campaigns.
	Marketing
)

// String returns "transactional", "marketing" or "purpose(N)".
func (p Purpose) String() string {
	switch p {
	case Transactional:
		return "transactional"
	case Marketing:
		return "marketing"
	}
	return fmt.Sprintf("purpose(%d)", uint8(p))
}

// Level is the outcome of an eligibility check (R2). The zero Level is not
// a valid outcome.
type Level uint8

const (
	// Eligible: the message may be sent.
	Eligible Level = iota + 1
	// Warning: the message may be sent, but the sender must see the reasons
	// (no marketing consent: the sender attests it is not promotional).
	Warning
	// Blocked: the message must not be sent to this contact on this channel.
	Blocked
)

// String returns "eligible", "warning", "blocked" or "level(N)".
func (l Level) String() string {
	switch l {
	case Eligible:
		return "eligible"
	case Warning:
		return "warning"
	case Blocked:
		return "blocked"
	}
	return fmt.Sprintf("level(%d)", uint8(l))
}

// Facts is what the caller knows about one send beyond the contact: the
// state of the conversation and the sender identity. The zero Facts means
// "nothing known": no inbound WhatsApp message, no template, the Airbnb guest
// has not written, a manual message, no identity.
type Facts struct {
	// LastInboundWhatsApp is the time of the contact's latest inbound
	// WhatsApp message; zero if there is none. Free text is allowed until
	// 24 h after it (C10).
	LastInboundWhatsApp time.Time
	// ApprovedTemplate reports that the WhatsApp message is an approved
	// template, which may be sent outside the service window (C10).
	ApprovedTemplate bool
	// GuestWrote reports that the Airbnb guest has written in the thread;
	// free text is allowed from then on (C11).
	GuestWrote bool
	// Automatic reports an automatic or scheduled message, which may start
	// an Airbnb conversation (C11).
	Automatic bool
	// Now is when the check is made: the WhatsApp service window (C10) is
	// judged at it. Rules hold no clock of their own, so that a host's one
	// clock (the inbox's Options.Now) decides; zero means time.Now().
	Now time.Time
	// Identity is the sender identity the message goes out from, if known;
	// one that cannot receive replies is reported in Verdict.Info (R7).
	Identity *channel.Identity
}

// Verdict is the eligibility of one contact for one channel and purpose
// (R2). Reasons explain the level: when Blocked, every blocking reason; when
// Warning, the warnings; when Eligible, none. Info holds facts that change
// nothing about sending but that a UI should show (ErrRepliesImpossible).
// Every reason matches one of the package's reason errors, or
// channel.ErrOptedOut or channel.ErrWindowClosed, with errors.Is.
type Verdict struct {
	// Level is Eligible, Warning or Blocked.
	Level Level
	// Reasons explain Level: the blocking reasons when Blocked, the
	// warnings when Warning, nil when Eligible.
	Reasons []error
	// Info holds information that does not change Level (R7).
	Info []error
}

// Err returns the blocking reasons joined into one error (errors.Join), or
// nil when the verdict is not Blocked.
func (v Verdict) Err() error {
	if v.Level != Blocked {
		return nil
	}
	return errors.Join(v.Reasons...)
}

// Allowed reports whether the message may be sent: Eligible or Warning.
func (v Verdict) Allowed() bool {
	return v.Level == Eligible || v.Level == Warning
}

// Options configure Rules. The zero value is valid: no default phone region
// (international numbers only), consent warnings, a 24-hour WhatsApp window,
// no quiet hours, venue in UTC. Rules take the time from their caller
// (Facts.Now, SendTime's due time), so they have no clock to set.
type Options struct {
	// DefaultRegion is the ISO 3166-1 alpha-2 region ("FR", "US") that
	// phone numbers without an international prefix belong to (R6).
	DefaultRegion string
	// StrictConsent blocks marketing to contacts without marketing consent
	// on the channel instead of warning (R2).
	StrictConsent bool
	// WhatsAppWindow is the WhatsApp customer service window (C10); zero
	// means 24 hours.
	WhatsAppWindow time.Duration
	// QuietHours hold marketing messages during the recipient's night (R8);
	// the zero value holds nothing.
	QuietHours QuietHours
	// Venue is the venue's time zone, used for contacts without one (R8);
	// nil means UTC.
	Venue *time.Location
}

// Rules decide who may receive what (R2–R8). Build one with NewRules; the
// zero Rules behaves as NewRules(Options{}) would, only slower to check
// phone numbers.
type Rules struct {
	region  string
	strict  bool
	window  time.Duration
	quiet   QuietHours
	venue   *time.Location
	closed  *KindError // the reason of a closed WhatsApp window
	codes   *callingCodes
	zonesMu sync.RWMutex
	zones   map[string]*time.Location
}

// NewRules validates opts and returns Rules. An unknown DefaultRegion, a
// negative WhatsAppWindow or invalid QuietHours give an error matching
// ErrInvalidOptions.
func NewRules(opts Options) (*Rules, error) {
	region := strings.ToUpper(strings.TrimSpace(opts.DefaultRegion))
	if region != "" {
		if !knownRegion(region) {
			return nil, fmt.Errorf("%w: default region %q: %w", ErrInvalidOptions, opts.DefaultRegion, ErrInvalidRegion)
		}
	}
	if opts.WhatsAppWindow < 0 {
		return nil, fmt.Errorf("%w: negative WhatsApp window %v", ErrInvalidOptions, opts.WhatsAppWindow)
	}
	if err := opts.QuietHours.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidOptions, err)
	}
	r := &Rules{
		region: region,
		strict: opts.StrictConsent,
		window: opts.WhatsAppWindow,
		quiet:  opts.QuietHours,
		venue:  opts.Venue,
		codes:  newCallingCodes(),
		zones:  make(map[string]*time.Location),
	}
	if r.window == 0 {
		r.window = 24 * time.Hour
	}
	r.closed = windowClosed(r.window)
	if r.venue == nil {
		r.venue = time.UTC
	}
	return r, nil
}

// Check returns the eligibility of c for a message of purpose on kind (R2,
// C10, C11, R7):
//
//   - Blocked when c has no address for kind (ErrNoAddress; ErrNoDevice for
//     push, ErrNoValidDevice when every push token is retired), an invalid one (ErrInvalidAddress), has opted out of kind
//     (channel.ErrOptedOut), on WhatsApp when the service window is closed
//     and the message is not an approved template (channel.ErrWindowClosed),
//     on Airbnb when the guest has not written and the message is not
//     automatic (ErrGuestNotWritten), and for an invalid kind
//     (channel.ErrUnknownKind) or purpose (ErrInvalidPurpose);
//   - Warning for marketing without consent on kind (ErrNoConsent), or
//     Blocked for it under StrictConsent;
//   - Eligible otherwise.
//
// A reason about the channel (no address, invalid address, opted out, no
// consent, window closed) is a *KindError naming the kind: "recipient:
// opted out of sms".
//
// Addresses are checked for shape only: an email must look like
// local@domain.tld, a phone must be E.164 with a known country code. Store
// contacts normalised (Normalize, ParsePhone, ParseEmail) so that this cheap
// check is enough; Check does not run libphonenumber, so it stays well under
// a microsecond and allocates nothing on the eligible path.
func (r *Rules) Check(c Contact, kind channel.Kind, purpose Purpose, facts Facts) Verdict {
	if !kind.Valid() {
		return Verdict{Level: Blocked, Reasons: []error{fmt.Errorf("recipient: %w: %v", channel.ErrUnknownKind, kind)}}
	}
	if purpose != Transactional && purpose != Marketing {
		return Verdict{Level: Blocked, Reasons: []error{ErrInvalidPurpose}}
	}
	var blocking [4]error
	n := 0
	reasons := &reasonsOf[kind]
	if reason := r.addressProblem(c, kind, reasons); reason != nil {
		blocking[n] = reason
		n++
	}
	if c.OptedOut.Has(kind) {
		blocking[n] = reasons.optedOut
		n++
	}
	switch kind {
	case channel.WhatsApp:
		if !facts.ApprovedTemplate && !r.WhatsAppWindowOpen(facts.LastInboundWhatsApp, facts.Now) {
			closed := r.closed
			if closed == nil { // the zero Rules
				closed = windowClosed(24 * time.Hour)
			}
			blocking[n] = closed
			n++
		}
	case channel.Airbnb:
		if !facts.GuestWrote && !facts.Automatic {
			blocking[n] = ErrGuestNotWritten
			n++
		}
	}
	noConsent := purpose == Marketing && !c.Consent.Has(kind)
	if noConsent && r.strict {
		blocking[n] = reasons.noConsent
		n++
	}
	var v Verdict
	switch {
	case n > 0:
		v.Level = Blocked
		v.Reasons = append([]error(nil), blocking[:n]...)
	case noConsent:
		v.Level = Warning
		v.Reasons = []error{reasons.noConsent}
	default:
		v.Level = Eligible
	}
	if facts.Identity != nil && !facts.Identity.TwoWay {
		v.Info = []error{ErrRepliesImpossible}
	}
	return v
}

// addressProblem returns the blocking reason of c's address for kind, or nil.
func (r *Rules) addressProblem(c Contact, kind channel.Kind, reasons *kindReasons) error {
	switch kind {
	case channel.Email:
		if strings.TrimSpace(c.Email) == "" {
			return reasons.noAddress
		}
		if !validEmail(c.Email) {
			return reasons.invalidAddress
		}
	case channel.SMS, channel.MMS, channel.WhatsApp:
		if strings.TrimSpace(c.Phone) == "" {
			return reasons.noAddress
		}
		if !r.codes.validE164(c.Phone) {
			return reasons.invalidAddress
		}
	case channel.Push:
		if c.Address(channel.Push) == "" {
			if c.hasPushToken() {
				return ErrNoValidDevice
			}
			return ErrNoDevice
		}
	case channel.Airbnb:
		if strings.TrimSpace(c.AirbnbID) == "" {
			return reasons.noAddress
		}
	}
	return nil
}

// ParsePhone is the package-level ParsePhone with the default region of the
// rules.
func (r *Rules) ParsePhone(input string) (string, error) {
	return ParsePhone(input, r.region)
}

// Normalize returns c with its phone in E.164 (ParsePhone with the default
// region), its email as ParseEmail returns it, blank and repeated push tokens
// removed and names trimmed, ready to be stored (R1, R6). Empty fields stay
// empty. Fields that cannot be normalised are left as given and reported in
// the error, which joins one error per field: matching ErrInvalidPhone,
// ErrInvalidEmail or ErrInvalidTimeZone (an unknown IANA zone).
func (r *Rules) Normalize(c Contact) (Contact, error) {
	var errs []error
	c.FirstName = strings.TrimSpace(c.FirstName)
	c.LastName = strings.TrimSpace(c.LastName)
	if strings.TrimSpace(c.Phone) == "" {
		c.Phone = ""
	} else if p, err := r.ParsePhone(c.Phone); err != nil {
		errs = append(errs, fmt.Errorf("recipient: contact %q phone: %w", c.ID, err))
	} else {
		c.Phone = p
	}
	if strings.TrimSpace(c.Email) == "" {
		c.Email = ""
	} else if e, err := ParseEmail(c.Email); err != nil {
		errs = append(errs, fmt.Errorf("recipient: contact %q email: %w", c.ID, err))
	} else {
		c.Email = e
	}
	if len(c.PushTokens) > 0 {
		tokens := make([]string, 0, len(c.PushTokens))
		seen := make(map[string]bool, len(c.PushTokens))
		for _, t := range c.PushTokens {
			t = strings.TrimSpace(t)
			if t != "" && !seen[t] {
				seen[t] = true
				tokens = append(tokens, t)
			}
		}
		c.PushTokens = tokens
	}
	c.AirbnbID = strings.TrimSpace(c.AirbnbID)
	c.TimeZone = strings.TrimSpace(c.TimeZone)
	if c.TimeZone != "" {
		if _, err := r.location(c.TimeZone); err != nil {
			errs = append(errs, fmt.Errorf("recipient: contact %q: %w", c.ID, err))
		}
	}
	return c, errors.Join(errs...)
}

// SendTime returns when a message of purpose due at due may go out to c
// under the quiet hours of the rules (R8): due itself for transactional
// messages, without quiet hours, or outside them; else the end of the quiet
// hours in c's time zone, or the venue's when c has none or an unknown one.
func (r *Rules) SendTime(due time.Time, c Contact, purpose Purpose) time.Time {
	if purpose == Transactional || !r.quiet.Enabled() {
		return due
	}
	loc := r.venue // nil (zero Rules) is UTC for Allowed
	if c.TimeZone != "" {
		if l, err := r.location(c.TimeZone); err == nil {
			loc = l
		}
	}
	return r.quiet.Allowed(due, loc, purpose)
}

// location loads an IANA time zone, caching it: time.LoadLocation reads the
// zone database on every call. "Local" is refused: the server's zone is not
// a contact's.
func (r *Rules) location(name string) (*time.Location, error) {
	r.zonesMu.RLock()
	loc, ok := r.zones[name]
	r.zonesMu.RUnlock()
	if ok {
		return loc, nil
	}
	if name == "Local" {
		return nil, fmt.Errorf("%w %q", ErrInvalidTimeZone, name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrInvalidTimeZone, name, err)
	}
	r.zonesMu.Lock()
	if r.zones == nil {
		r.zones = make(map[string]*time.Location)
	}
	r.zones[name] = loc
	r.zonesMu.Unlock()
	return loc, nil
}
