package inbox

import (
	"context"
	"strings"

	"github.com/nyaruka/phonenumbers"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/recipient"
)

// Address subjects: a sender the host's directory does not know is a contact
// subject whose ID is its address with a reserved prefix.
var addressPrefixes = map[channel.Kind]string{
	channel.SMS: "tel:", channel.MMS: "tel:", channel.WhatsApp: "tel:",
	channel.Email: "mailto:", channel.Push: "push:", channel.Airbnb: "airbnb:",
}

// AddressSubject returns the subject of a sender the directory does not
// know: a contact subject whose ID is the address with a prefix ("tel:",
// "mailto:", "push:", "airbnb:"). Host contact IDs must not start with
// those prefixes. SMS, MMS and WhatsApp share "tel:", so one number is one
// subject whatever the kind.
//
// The address is normalised as an Inbox without a default phone region
// does: a phone number in international form becomes E.164, one it cannot
// parse keeps its digits; an email address is lower-cased. An Inbox whose
// recipient rules have a default region also reads national numbers (see
// StartWithAddress).
func AddressSubject(kind channel.Kind, address string) Subject {
	return addressSubject(kind, normalizeAddress(kind, address))
}

// addressSubject returns the subject of an address in its canonical form.
// A very long address is keyed (storableKey), so that every store can
// index the subject; its first characters stay searchable.
func addressSubject(kind channel.Kind, addr string) Subject {
	return Subject{Kind: store.Contact, ID: addressPrefixes[kind] + storableKey(addr)}
}

// normalizeAddress returns the canonical form of an address with no
// default phone region (see canonicalAddress).
func normalizeAddress(kind channel.Kind, a string) string {
	return canonicalAddress(kind, a, parseInternational)
}

func parseInternational(s string) (string, error) { return recipient.ParsePhone(s, "") }

// address returns the canonical form of an address entering the inbox —
// an inbound sender, an address to start a conversation with, a
// recipient's address — so that one person is one subject and one opt-out
// (T2, R6): phone numbers are parsed with the recipient rules' default
// region (see canonicalAddress).
func (in *Inbox) address(kind channel.Kind, a string) string {
	return canonicalAddress(kind, a, in.rules.ParsePhone)
}

// canonicalAddress returns an address in the one form the inbox keeps,
// cleaned (valid UTF-8, no NUL) and trimmed:
//   - a phone number (SMS, MMS, WhatsApp; a "whatsapp:" prefix is dropped)
//     in E.164 as parsePhone reads it (recipient.ParsePhone with a default
//     region); digits alone that only parse as an international number
//     ("33612345678", as WhatsApp gives them, tried first for WhatsApp) get
//     their "+". A number that does not parse keeps its digits and leading
//     "+" when it is written with phone punctuation only ("06 12 34 56 78"
//     without a region is "0612345678", never "+0612345678"), else stays
//     as written;
//   - an email address in lower case;
//   - any other address as it is.
func canonicalAddress(kind channel.Kind, a string, parsePhone func(string) (string, error)) string {
	a = strings.TrimSpace(cleanText(a))
	switch kind {
	case channel.SMS, channel.MMS, channel.WhatsApp:
		a = strings.TrimSpace(strings.TrimPrefix(a, "whatsapp:"))
		if a == "" || isE164(a) {
			return a
		}
		digits := strings.Trim(a, "0123456789") == ""
		if digits && kind == channel.WhatsApp {
			if e, err := parseInternational("+" + a); err == nil {
				return e
			}
		}
		if e, err := parsePhone(a); err == nil {
			return e
		}
		if digits {
			if e, err := parseInternational("+" + a); err == nil {
				return e
			}
		}
		return phoneDigits(a)
	case channel.Email:
		return strings.ToLower(a)
	}
	return a
}

// isE164 reports whether s is already in the form recipient.ParsePhone
// returns, so that parsing it again (tens of microseconds) would give s
// itself: "+", a country calling code libphonenumber knows, then a
// national number that does not start with 0 (no trunk prefix to strip),
// 8 to 16 characters in all. A valid number in that form is its own E.164;
// an invalid one would keep its form anyway (see canonicalAddress).
func isE164(s string) bool {
	if len(s) < 8 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	cc := 0
	for n := 1; n <= 3; n++ {
		cc = cc*10 + int(s[n]-'0')
		if callingCodes[cc] {
			return s[1+n] != '0'
		}
	}
	return false
}

// callingCodes tells the country calling codes libphonenumber knows (a
// region's or a non-geographic entity's): isE164 reads a table where two
// or three lookups in phonenumbers' map, and as many conversions of
// digits, took a third of an inbound message's canonical address.
var callingCodes = func() (known [1000]bool) {
	for cc := range known {
		known[cc] = phonenumbers.GetRegionCodeForCountryCode(cc) != phonenumbers.UNKNOWN_REGION
	}
	return known
}()

// phoneDigits returns a phone number that does not parse as its digits,
// with its leading "+", when it is written with digits and phone
// punctuation (spaces, '-', '.', '(', ')', '/') only; else a itself.
func phoneDigits(a string) string {
	var b strings.Builder
	for i := 0; i < len(a); i++ {
		c := a[i]
		switch {
		case c >= '0' && c <= '9', c == '+' && i == 0:
			b.WriteByte(c)
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '/':
		default:
			return a
		}
	}
	if d := b.String(); strings.Trim(d, "+") != "" {
		return d
	}
	return a
}

func isAddressSubject(s Subject) bool {
	if s.Kind != store.Contact {
		return false
	}
	for _, p := range []string{"tel:", "mailto:", "push:", "airbnb:"} {
		if strings.HasPrefix(s.ID, p) {
			return true
		}
	}
	return false
}

func addressSnapshot(s Subject) Snapshot {
	switch {
	case strings.HasPrefix(s.ID, "tel:"):
		return Snapshot{Phone: strings.TrimPrefix(s.ID, "tel:")}
	case strings.HasPrefix(s.ID, "mailto:"):
		return Snapshot{Email: strings.TrimPrefix(s.ID, "mailto:")}
	}
	return Snapshot{}
}

// setOptOut records an opt-out of an address in canonical form, keyed as
// stores keep it (R5).
func (in *Inbox) setOptOut(ctx context.Context, kind channel.Kind, addr string, out bool, events ...Event) error {
	if err := in.store.SetOptOut(ctx, kind, storableKey(addr), out, in.feedEvents(events...)...); err != nil {
		return wrapStore("opt-out", err)
	}
	if len(events) > 0 {
		in.delivered(ctx)
	}
	return nil
}

// optedOut returns which of the addresses, in canonical form, opted out of
// kind (R5).
func (in *Inbox) optedOut(ctx context.Context, kind channel.Kind, addrs []string) (map[string]bool, error) {
	keys := storableKeys(addrs)
	m, err := in.store.OptedOut(ctx, kind, keys)
	if err != nil {
		return nil, wrapStore("opt-outs", err)
	}
	out := make(map[string]bool, len(m))
	for i, k := range keys {
		if m[k] {
			out[addrs[i]] = true
		}
	}
	return out, nil
}
