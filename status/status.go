package status

import (
	"fmt"
	"strings"
)

// Status is the delivery status of one message to one recipient (S1). The
// zero value, Unknown, means no status has been seen yet; it ranks below every
// real status, so Merge(Unknown, s) == s.
//
// The numeric values follow the rank of S2, so comparing two statuses with <
// compares their ranks. Do not persist the numbers: persist String or the
// text marshalling, which is stable.
type Status uint8

// The nine statuses of S1, in rank order (S2).
const (
	// Unknown is the zero value: no status seen. It is not one of the nine
	// statuses and cannot be marshalled.
	Unknown Status = iota
	// Scheduled: the message is scheduled for a later time.
	Scheduled
	// Pending: due, not yet accepted by a provider.
	Pending
	// Validated: accepted by a provider, not yet sent.
	Validated
	// Cancelled: cancelled before it was sent.
	Cancelled
	// Failed: could not be sent.
	Failed
	// Sent: handed to the network.
	Sent
	// Undelivered: sent, but the network reported it was not delivered.
	Undelivered
	// Delivered: the network reported delivery to the device or mailbox.
	Delivered
	// Read: the recipient read it (channels with read receipts only).
	Read
)

// count is the number of real statuses plus Unknown.
const count = int(Read) + 1

var names = [count]string{"unknown", "scheduled", "pending", "validated", "cancelled", "failed", "sent", "undelivered", "delivered", "read"}

// All returns the nine statuses of S1 in rank order.
func All() []Status {
	return []Status{Scheduled, Pending, Validated, Cancelled, Failed, Sent, Undelivered, Delivered, Read}
}

// Valid reports whether s is one of the nine statuses of S1.
func (s Status) Valid() bool { return s >= Scheduled && s <= Read }

// Rank returns the position of s in the S2 order, 1 for Scheduled to 9 for
// Read, and 0 for Unknown or an invalid value.
func (s Status) Rank() int {
	if !s.Valid() {
		return 0
	}
	return int(s)
}

// String returns the lower-case name of the status ("delivered"), "unknown"
// for the zero value, or "status(N)" for a value out of range.
func (s Status) String() string {
	if int(s) < count {
		return names[s]
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// Final reports whether no later status can normally follow s: Cancelled,
// Failed, Undelivered and Read. Merge still accepts a higher rank after a
// final status (a "failed" followed by a late "delivered" becomes
// delivered), because providers do send such corrections.
func (s Status) Final() bool {
	switch s {
	case Cancelled, Failed, Undelivered, Read:
		return true
	}
	return false
}

// Parse parses a status name as produced by String, case-insensitively and
// ignoring surrounding space. "canceled" is accepted for Cancelled. Any other
// input, including "unknown", gives an error matching ErrUnknown.
func Parse(name string) (Status, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "canceled" {
		return Cancelled, nil
	}
	for s := Scheduled; s <= Read; s++ {
		if names[s] == n {
			return s, nil
		}
	}
	return Unknown, fmt.Errorf("status: %w: %q", ErrUnknown, name)
}

// MarshalText implements encoding.TextMarshaler: JSON shows the lower-case
// name. Unknown and out-of-range values are an error.
func (s Status) MarshalText() ([]byte, error) {
	if !s.Valid() {
		return nil, fmt.Errorf("status: %w: cannot marshal %s", ErrUnknown, s)
	}
	return []byte(names[s]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with Parse.
func (s *Status) UnmarshalText(b []byte) error {
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Merge returns the status a delivery keeps when it has seen current and then
// receives update (S2): the one of higher rank. Merge is commutative,
// associative and idempotent, so a delivery that folds its webhooks with Merge
// ends with the same status whatever order and however many times they
// arrive. An invalid value ranks like Unknown and never wins over a valid one.
func Merge(current, update Status) Status {
	if update.Rank() > current.Rank() {
		return update
	}
	if current.Valid() {
		return current
	}
	return Unknown
}
