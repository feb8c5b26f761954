package recipient

import (
	"fmt"
	"net/mail"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// ParsePhone parses input as a phone number with libphonenumber rules and
// returns it in E.164 form ("+33612345678") (R6). Numbers written without
// an international prefix are read as numbers of defaultRegion, an ISO
// 3166-1 alpha-2 code such as "FR" or "US" (case-insensitive), whose
// international dialling prefix ("00" in France) is understood too. With
// defaultRegion "" only numbers written with "+" and a country code are
// accepted.
//
// Anything that is not a valid number is an error of type *PhoneError
// matching ErrInvalidPhone and ErrInvalidAddress: text that is not a number,
// an unknown region, a number that is too short or too long, one that is only
// "possible" (right length, unassigned range), and a number with an
// extension, which a message cannot reach.
func ParsePhone(input, defaultRegion string) (string, error) {
	region := strings.ToUpper(strings.TrimSpace(defaultRegion))
	fail := func(problem string, err error) (string, error) {
		return "", &PhoneError{Input: input, Region: region, Problem: problem, Err: err}
	}
	if region != "" && !knownRegion(region) {
		return fail("unknown region", ErrInvalidRegion)
	}
	text := strings.TrimSpace(input)
	if text == "" {
		return fail("empty", nil)
	}
	parseRegion := region
	if parseRegion == "" {
		parseRegion = "ZZ" // libphonenumber's "unknown region": international numbers only
	}
	num, err := phonenumbers.Parse(text, parseRegion)
	if err != nil {
		return fail("not a phone number", err)
	}
	if num.GetExtension() != "" {
		return fail("has an extension, which a message cannot reach", nil)
	}
	if !phonenumbers.IsValidNumber(num) {
		switch phonenumbers.IsPossibleNumberWithReason(num) {
		case phonenumbers.INVALID_COUNTRY_CODE:
			return fail("unknown country calling code", nil)
		case phonenumbers.TOO_SHORT:
			return fail("too short", nil)
		case phonenumbers.TOO_LONG:
			return fail("too long", nil)
		case phonenumbers.INVALID_LENGTH:
			return fail("invalid length", nil)
		default:
			return fail("possible but not a valid number", nil)
		}
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// knownRegion reports whether libphonenumber has metadata for the upper-case
// region code.
func knownRegion(region string) bool {
	return phonenumbers.GetSupportedRegions()[region]
}

// ParseEmail parses input as an RFC 5322 address (net/mail) whose domain has
// at least two labels ("example.com"), and returns the bare address with the
// domain in lower case (R6). A display name ("Hélène <h@example.com>") is
// dropped. Quoted local parts, domain literals ("[192.0.2.1]") and
// single-label domains are refused. Errors match ErrInvalidEmail and
// ErrInvalidAddress.
func ParseEmail(input string) (string, error) {
	text := strings.TrimSpace(input)
	if text == "" {
		return "", &emailError{input: input, problem: "empty"}
	}
	a, err := mail.ParseAddress(text)
	if err != nil {
		return "", &emailError{input: input, problem: "not an RFC 5322 address", err: err}
	}
	at := strings.LastIndexByte(a.Address, '@')
	if at < 0 {
		return "", &emailError{input: input, problem: "no domain"}
	}
	addr := a.Address[:at+1] + strings.ToLower(a.Address[at+1:])
	if !validEmail(addr) {
		return "", &emailError{input: input, problem: "not a plain address with a dotted domain"}
	}
	return addr, nil
}

// emailError is the error of ParseEmail.
type emailError struct {
	input, problem string
	err            error // the net/mail error, if any
}

func (e *emailError) Error() string {
	msg := fmt.Sprintf("recipient: invalid email address %q: %s", e.input, e.problem)
	if e.err != nil {
		msg += ": " + e.err.Error()
	}
	return msg
}

func (e *emailError) Unwrap() []error {
	if e.err != nil {
		return []error{ErrInvalidEmail, ErrInvalidAddress, e.err}
	}
	return []error{ErrInvalidEmail, ErrInvalidAddress}
}

// validEmail is the cheap shape check of a stored email address done at
// eligibility time: a local part of at most 64 bytes without spaces, quotes,
// brackets or stray dots, one "@", and a dotted domain without empty labels.
// Every address ParseEmail returns passes it.
func validEmail(s string) bool {
	if len(s) > 254 {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at > 64 || at == len(s)-1 {
		return false
	}
	// The local part is a dot-atom: no dot first, last or doubled.
	if local := s[:at]; local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return false
	}
	dots := 0
	prev := byte('.') // a domain may not start with a dot
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == 0x7f {
			return false
		}
		switch c {
		case '"', '(', ')', ',', ':', ';', '<', '>', '[', ']', '\\':
			return false
		case '@':
			if i != at {
				return false
			}
		}
		if i > at {
			if c == '.' {
				if prev == '.' {
					return false
				}
				dots++
			}
			prev = c
		}
	}
	return dots > 0 && prev != '.'
}

// callingCodes is the set of country calling codes libphonenumber knows,
// indexed by code (all codes are below 1000).
type callingCodes [1000]bool

func newCallingCodes() *callingCodes {
	var cc callingCodes
	for code := range phonenumbers.GetSupportedCallingCodes() {
		if code > 0 && code < len(cc) {
			cc[code] = true
		}
	}
	return &cc
}

// validE164 is the cheap check of a stored phone number done at eligibility
// time: "+", then 7 to 15 digits starting with a known country calling code
// (codes are prefix-free, so the first known prefix is the code). Every
// number ParsePhone returns passes it; a number that passes may still be
// unassigned, which only ParsePhone can tell. A nil set asks
// libphonenumber's map instead.
func (cc *callingCodes) validE164(s string) bool {
	if len(s) < 8 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	code := 0
	for i := 1; i <= 3; i++ {
		code = code*10 + int(s[i]-'0')
		if cc == nil && phonenumbers.GetSupportedCallingCodes()[code] || cc != nil && cc[code] {
			return true
		}
	}
	return false
}
