package channel

import (
	"errors"
	"fmt"
)

// ErrTemplateNotApproved marks a send refused because the provider template
// it names (a WhatsApp message template, C10) is not approved: not
// submitted, pending review, paused, disabled or rejected. It is permanent
// and distinct from ErrWindowClosed: an approved template is what a closed
// window needs. The error carrying it is a *TemplateStateError.
var ErrTemplateNotApproved = errors.New("template not approved")

// TemplateStateError reports a provider template that cannot be sent in its
// current approval state. errors.Is matches ErrTemplateNotApproved; get the
// state with errors.As.
type TemplateStateError struct {
	// Name and Language identify the template at the provider.
	Name     string
	Language string
	// State is the template's approval state ("pending", "paused",
	// "rejected" …); "" when it was never submitted.
	State string
	// Reason is the provider's reason, when it gave one (a rejection).
	Reason string
}

// Error implements error.
func (e *TemplateStateError) Error() string {
	state := e.State
	if state == "" {
		state = "not submitted"
	}
	msg := fmt.Sprintf("channel: template %q (%s) is %s: %s", e.Name, e.Language, state, ErrTemplateNotApproved)
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

// Unwrap returns ErrTemplateNotApproved.
func (e *TemplateStateError) Unwrap() error { return ErrTemplateNotApproved }
