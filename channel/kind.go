package channel

import (
	"fmt"
	"strings"
)

// Kind is a channel kind: the medium a message travels on. The zero Kind is
// not a valid kind.
type Kind uint8

// The channel kinds Parley knows.
const (
	Email Kind = iota + 1
	SMS
	MMS
	Push
	WhatsApp
	Airbnb
)

// Kinds lists every valid Kind in a fixed order.
func Kinds() []Kind { return []Kind{Email, SMS, MMS, Push, WhatsApp, Airbnb} }

var kindNames = [...]string{"", "email", "sms", "mms", "push", "whatsapp", "airbnb"}

// String returns the lower-case name of the kind ("email", "sms", …), or
// "kind(N)" for an invalid value.
func (k Kind) String() string {
	if k.Valid() {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Valid reports whether k is one of the defined kinds.
func (k Kind) Valid() bool { return k >= Email && k <= Airbnb }

// ParseKind parses a kind name, case-insensitively. An unknown name gives an
// error matching ErrUnknownKind.
func ParseKind(s string) (Kind, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	for k := Email; k <= Airbnb; k++ {
		if kindNames[k] == t {
			return k, nil
		}
	}
	return 0, fmt.Errorf("channel: %w: %q", ErrUnknownKind, s)
}

// MarshalText implements encoding.TextMarshaler. An invalid kind is an error.
func (k Kind) MarshalText() ([]byte, error) {
	if !k.Valid() {
		return nil, fmt.Errorf("channel: %w: %d", ErrUnknownKind, uint8(k))
	}
	return []byte(kindNames[k]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler using ParseKind.
func (k *Kind) UnmarshalText(b []byte) error {
	v, err := ParseKind(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}
