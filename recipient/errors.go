package recipient

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parleyhq/parley/channel"
)

// Reasons a verdict gives (R2, C10, C11, R7). Match them with errors.Is; a
// UI can switch on them to show a message and a fix. Opt-out and the closed
// WhatsApp window match the SDK-wide sentinels channel.ErrOptedOut and
// channel.ErrWindowClosed.
var (
	// ErrNoAddress: the contact has no address for the channel (no email,
	// no phone, no Airbnb thread). Blocking.
	ErrNoAddress = errors.New("recipient: no address for the channel")
	// ErrInvalidAddress: the contact's address for the channel is not a
	// valid email address or E.164 number. Blocking.
	ErrInvalidAddress = errors.New("recipient: invalid address for the channel")
	// ErrNoDevice: a push message to a contact with no push device token.
	// Blocking.
	ErrNoDevice = errors.New("recipient: no push device")
	// ErrNoValidDevice: a push message to a contact whose device tokens
	// were all retired by the push provider (Contact.RetiredPushTokens): the
	// app was uninstalled or its registration expired. It matches
	// ErrNoDevice too. Blocking.
	ErrNoValidDevice error = &reasonError{msg: "recipient: no valid push device: every device token was retired", err: ErrNoDevice}
	// ErrNoConsent: a marketing message to a contact who has not consented
	// to marketing on the channel. A warning (the sender attests the message
	// is not promotional), blocking under Options.StrictConsent.
	ErrNoConsent = errors.New("recipient: no marketing consent on the channel")
	// ErrGuestNotWritten: free text on Airbnb before the guest has written in
	// the thread; only automatic or scheduled messages may start an Airbnb
	// conversation (C11). Blocking.
	ErrGuestNotWritten = errors.New("recipient: airbnb guest has not written yet; only automatic messages may start the conversation")
	// ErrRepliesImpossible: the sender identity cannot receive replies (R7).
	// Information only, never blocking.
	ErrRepliesImpossible = errors.New("recipient: replies cannot reach the sender identity")
	// ErrInvalidPurpose: a purpose other than Transactional or Marketing.
	ErrInvalidPurpose = errors.New("recipient: invalid purpose")
)

// KindError is a verdict's reason about one channel kind: Err says what is
// wrong (ErrNoAddress, ErrInvalidAddress, channel.ErrOptedOut, ErrNoConsent,
// channel.ErrWindowClosed) and Kind for which channel, and its text names
// both ("recipient: opted out of sms"). It matches Err with errors.Is; a UI
// gets the kind with errors.As. Check returns shared values: never modify
// one.
type KindError struct {
	Kind channel.Kind
	Err  error
	msg  string
}

// Error returns the reason naming its channel kind.
func (e *KindError) Error() string { return e.msg }

// Unwrap returns Err.
func (e *KindError) Unwrap() error { return e.Err }

// kindReasons are the reasons of each channel kind, built once: Check
// returns them without allocating.
type kindReasons struct{ noAddress, invalidAddress, optedOut, noConsent *KindError }

var reasonsOf = func() (t [8]kindReasons) {
	for _, k := range channel.Kinds() {
		t[k] = kindReasons{
			noAddress:      &KindError{Kind: k, Err: ErrNoAddress, msg: "recipient: no " + k.String() + " address"},
			invalidAddress: &KindError{Kind: k, Err: ErrInvalidAddress, msg: "recipient: invalid " + k.String() + " address"},
			optedOut:       &KindError{Kind: k, Err: channel.ErrOptedOut, msg: "recipient: opted out of " + k.String()},
			noConsent:      &KindError{Kind: k, Err: ErrNoConsent, msg: "recipient: no marketing consent for " + k.String()},
		}
	}
	return t
}()

// windowClosed returns the reason of a closed WhatsApp service window of
// the given length (C10).
func windowClosed(window time.Duration) *KindError {
	return &KindError{Kind: channel.WhatsApp, Err: channel.ErrWindowClosed,
		msg: fmt.Sprintf("recipient: whatsapp service window closed: the contact last wrote more than %s ago, so only an approved template may be sent", hours(window))}
}

// hours writes a window as people say it: "24 h", "90 min".
func hours(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%d h", d/time.Hour)
	}
	if d%time.Minute == 0 {
		return fmt.Sprintf("%d min", d/time.Minute)
	}
	return d.String()
}

// reasonError is a reason that also matches a broader one.
type reasonError struct {
	msg string
	err error
}

func (e *reasonError) Error() string { return e.msg }
func (e *reasonError) Unwrap() error { return e.err }

// Errors of address parsing and normalisation (R6).
var (
	// ErrInvalidPhone is matched by every *PhoneError.
	ErrInvalidPhone = errors.New("recipient: invalid phone number")
	// ErrInvalidEmail is matched by every error of ParseEmail.
	ErrInvalidEmail = errors.New("recipient: invalid email address")
	// ErrInvalidRegion reports a default region that libphonenumber does not
	// know (regions are ISO 3166-1 alpha-2 codes such as "FR" or "US").
	ErrInvalidRegion = errors.New("recipient: unknown phone region")
	// ErrInvalidTimeZone reports a contact time zone that is not an IANA
	// time zone name.
	ErrInvalidTimeZone = errors.New("recipient: invalid time zone")
)

// Errors of the other values of the package.
var (
	// ErrInvalidOptions reports Options that NewRules rejects.
	ErrInvalidOptions = errors.New("recipient: invalid options")
	// ErrInvalidContact reports a contact a selection cannot hold (no ID).
	ErrInvalidContact = errors.New("recipient: invalid contact")
	// ErrUnknownMember: a selection was asked to select or deselect a
	// contact ID it does not list.
	ErrUnknownMember = errors.New("recipient: not a member of the selection")
	// ErrNotSelectable: a selection was asked to select or deselect a member
	// who is listed but blocked for the channel (R3, R4).
	ErrNotSelectable = errors.New("recipient: member is not selectable")
	// ErrUnknownGroup: a group the selection does not have (Booked on an
	// audience, say) or an invalid Group value.
	ErrUnknownGroup = errors.New("recipient: unknown group")
	// ErrInvalidKeywords reports a keyword set NewClassifier rejects.
	ErrInvalidKeywords = errors.New("recipient: invalid keywords")
	// ErrInvalidQuietHours reports quiet hours with an impossible clock time.
	ErrInvalidQuietHours = errors.New("recipient: invalid quiet hours")
)

// PhoneError reports an input that is not a valid phone number for the
// region it was parsed with. It matches ErrInvalidPhone and ErrInvalidAddress
// with errors.Is, and ErrInvalidRegion too when the region is the problem.
type PhoneError struct {
	// Input is the text that was parsed.
	Input string
	// Region is the default region it was parsed with ("" for none).
	Region string
	// Problem says what is wrong, in words ("too short", "possible but not
	// a valid number", …).
	Problem string
	// Err is the underlying cause, when there is one (a libphonenumber
	// parse error, ErrInvalidRegion).
	Err error
}

// Error implements error.
func (e *PhoneError) Error() string {
	var b strings.Builder
	b.WriteString("recipient: invalid phone number ")
	fmt.Fprintf(&b, "%q", e.Input)
	if e.Region != "" {
		fmt.Fprintf(&b, " (region %s)", e.Region)
	}
	b.WriteString(": ")
	b.WriteString(e.Problem)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns ErrInvalidPhone, ErrInvalidAddress and the cause, if any.
func (e *PhoneError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrInvalidPhone, ErrInvalidAddress, e.Err}
	}
	return []error{ErrInvalidPhone, ErrInvalidAddress}
}
