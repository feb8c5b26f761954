package recipient

import (
	"fmt"
	"strings"

	"github.com/parleyhq/parley/channel"
)

// Contact is a person who may receive messages: a member of a studio, a
// guest of a hotel (R1). It is a plain value; the host stores it.
//
// Phone is stored normalised to E.164 (R1, R6). Normalise once, when the
// contact is created or edited, with Rules.Normalize or ParsePhone: Check
// only verifies the E.164 shape, which keeps eligibility cheap.
type Contact struct {
	// ID is the host's stable identifier for the contact. Selections need it.
	ID string
	// FirstName and LastName are the contact's names.
	FirstName string
	LastName  string
	// Email is the contact's email address.
	Email string
	// Phone is the contact's mobile number in E.164 form ("+33612345678").
	// SMS, MMS and WhatsApp go to it.
	Phone string
	// PushTokens are the contact's push device tokens, the most recent
	// device first; push goes to the first non-blank one that is not
	// retired.
	PushTokens []string
	// RetiredPushTokens are tokens the push provider reported dead (the app
	// was uninstalled, the registration expired): push never goes to them,
	// and a contact whose tokens are all retired has no valid device (R2).
	// The inbox fills it from the tokens it recorded as retired; a host may
	// fill it too.
	RetiredPushTokens []string
	// AirbnbID is the Airbnb thread (or guest) identifier that Airbnb
	// messages go to; empty when the contact has no Airbnb booking.
	AirbnbID string
	// Consent is the set of channels the contact has consented to marketing
	// on (R2).
	Consent KindSet
	// OptedOut is the set of channels the contact has opted out of, by a
	// stop keyword (R5) or a provider report. Nothing is sent to them there.
	OptedOut KindSet
	// Locale is the contact's language as a BCP 47 tag ("fr-FR"), for
	// templates.
	Locale string
	// TimeZone is the contact's IANA time zone ("Europe/Paris"); empty means
	// the venue's (R8).
	TimeZone string
	// Attributes are extra values for template variables (C5).
	Attributes map[string]any
}

// Address returns the contact's address for kind: the email for Email, the
// phone for SMS, MMS and WhatsApp, the first non-blank push token for Push,
// AirbnbID for Airbnb. A push token listed in RetiredPushTokens is skipped.
// It returns "" when the contact has none or kind is not a channel kind. It
// does not validate the address; Rules.Check does.
func (c Contact) Address(kind channel.Kind) string {
	switch kind {
	case channel.Email:
		return c.Email
	case channel.SMS, channel.MMS, channel.WhatsApp:
		return c.Phone
	case channel.Push:
		for _, t := range c.PushTokens {
			if strings.TrimSpace(t) != "" && !c.retired(t) {
				return t
			}
		}
		return ""
	case channel.Airbnb:
		return c.AirbnbID
	}
	return ""
}

// retired reports whether token is one of c's retired push tokens.
func (c Contact) retired(token string) bool {
	for _, r := range c.RetiredPushTokens {
		if r == token {
			return true
		}
	}
	return false
}

// hasPushToken reports whether c has any non-blank push token, retired or
// not.
func (c Contact) hasPushToken() bool {
	for _, t := range c.PushTokens {
		if strings.TrimSpace(t) != "" {
			return true
		}
	}
	return false
}

// Name returns the first and last names joined by a space, without extra
// spaces when one is missing.
func (c Contact) Name() string {
	first, last := strings.TrimSpace(c.FirstName), strings.TrimSpace(c.LastName)
	switch {
	case first == "":
		return last
	case last == "":
		return first
	}
	return first + " " + last
}

// KindSet is a small set of channel kinds, used for per-channel consent and
// opt-out. The zero value is the empty set. It is a value: methods that
// change it return the new set.
type KindSet uint8

// NewKindSet returns the set of the given kinds. Invalid kinds are left out.
func NewKindSet(kinds ...channel.Kind) KindSet {
	var s KindSet
	for _, k := range kinds {
		s = s.With(k)
	}
	return s
}

// Has reports whether k is in the set.
func (s KindSet) Has(k channel.Kind) bool {
	return k.Valid() && s&(1<<k) != 0
}

// With returns the set with k added. An invalid kind leaves it unchanged.
func (s KindSet) With(k channel.Kind) KindSet {
	if !k.Valid() {
		return s
	}
	return s | 1<<k
}

// Without returns the set with k removed.
func (s KindSet) Without(k channel.Kind) KindSet {
	if !k.Valid() {
		return s
	}
	return s &^ (1 << k)
}

// Kinds returns the kinds in the set in the order of channel.Kinds.
func (s KindSet) Kinds() []channel.Kind {
	var out []channel.Kind
	for _, k := range channel.Kinds() {
		if s.Has(k) {
			out = append(out, k)
		}
	}
	return out
}

// String returns the kind names joined by commas ("email,sms"), or "" for
// the empty set.
func (s KindSet) String() string {
	var b strings.Builder
	for _, k := range s.Kinds() {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k.String())
	}
	return b.String()
}

// MarshalText implements encoding.TextMarshaler with the String form, so a
// set stores as "email,sms" in JSON and text columns.
func (s KindSet) MarshalText() ([]byte, error) {
	return []byte(s.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler: comma-separated kind
// names, case-insensitive, blanks ignored. An unknown name is an error
// matching channel.ErrUnknownKind.
func (s *KindSet) UnmarshalText(b []byte) error {
	var out KindSet
	for _, name := range strings.Split(string(b), ",") {
		if strings.TrimSpace(name) == "" {
			continue
		}
		k, err := channel.ParseKind(name)
		if err != nil {
			return fmt.Errorf("recipient: kind set: %w", err)
		}
		out = out.With(k)
	}
	*s = out
	return nil
}
