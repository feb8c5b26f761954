package store

import (
	"errors"
	"fmt"
)

// ErrInvalid reports a value a store cannot keep: a write whose parts do not
// belong together, an empty ID, a subject kind out of range, a limit below 1.
// Nothing was written.
var ErrInvalid = errors.New("invalid value")

// Check reports what is wrong with a write on its own, before any store
// looks at what it holds: a thread without ID or with an invalid subject
// kind, a negative version, deliveries without a message, message times
// without a message ID, a message or delivery that belongs to another
// thread (ErrInvalid), a delivery ID twice
// (ErrConflict) or a provider ID twice among its deliveries (ErrDuplicate).
// Stores call it first in WriteThread; it takes time linear in the number of
// deliveries.
func (w *ThreadWrite) Check() error {
	t := &w.Thread
	switch {
	case t.ID == "":
		return fmt.Errorf("%w: thread without ID", ErrInvalid)
	case !t.Subject.Kind.Valid():
		return fmt.Errorf("%w: thread %q: subject kind %v", ErrInvalid, t.ID, t.Subject.Kind)
	case t.Version < 0:
		return fmt.Errorf("%w: thread %q: version %d", ErrInvalid, t.ID, t.Version)
	}
	m := w.Message
	if m == nil && len(w.Deliveries) > 0 {
		return fmt.Errorf("%w: thread %q: deliveries without a message", ErrInvalid, t.ID)
	}
	if m != nil && (m.ID == "" || m.ThreadID != t.ID) {
		return fmt.Errorf("%w: message %q of thread %q written to thread %q", ErrInvalid, m.ID, m.ThreadID, t.ID)
	}
	var ids, pids map[string]struct{}
	if len(w.Deliveries) > 1 {
		ids = make(map[string]struct{}, len(w.Deliveries))
		pids = make(map[string]struct{})
	}
	for _, d := range w.Deliveries {
		if d.ID == "" || d.MessageID != m.ID || d.ThreadID != t.ID {
			return fmt.Errorf("%w: delivery %q of message %q, thread %q, written with message %q", ErrInvalid, d.ID, d.MessageID, d.ThreadID, m.ID)
		}
		if ids == nil {
			continue
		}
		if _, dup := ids[d.ID]; dup {
			return fmt.Errorf("delivery %q written twice: %w", d.ID, ErrConflict)
		}
		ids[d.ID] = struct{}{}
		if d.ProviderID != "" {
			if _, dup := pids[d.ProviderID]; dup {
				return fmt.Errorf("provider ID %q: %w", d.ProviderID, ErrDuplicate)
			}
			pids[d.ProviderID] = struct{}{}
		}
	}
	if w.Times != nil && w.Times.MessageID == "" {
		return fmt.Errorf("%w: thread %q: message times without a message ID", ErrInvalid, t.ID)
	}
	if a := w.Assignment; a != nil && a.ThreadID != "" && a.ThreadID != t.ID {
		return fmt.Errorf("%w: assignment of thread %q written to thread %q", ErrInvalid, a.ThreadID, t.ID)
	}
	return nil
}
