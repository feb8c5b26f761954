package channel_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/parleyhq/parley/channel"
)

// C10: a template that is not approved has its own typed error, with its
// state; it is permanent and is not a closed service window.
func TestTemplateStateError(t *testing.T) {
	err := fmt.Errorf("inbox: cannot send: %w", &channel.TemplateStateError{Name: "promo", Language: "fr", State: "rejected", Reason: "too promotional"})
	var se *channel.TemplateStateError
	if !errors.Is(err, channel.ErrTemplateNotApproved) || !errors.As(err, &se) || se.State != "rejected" || se.Reason != "too promotional" {
		t.Fatalf("err = %v", err)
	}
	if errors.Is(err, channel.ErrWindowClosed) || channel.Retryable(fmt.Errorf("%w, %w", err, channel.ErrTransient)) {
		t.Fatalf("a template not approved is its own permanent refusal: %v", err)
	}
	if got := (&channel.TemplateStateError{Name: "promo", Language: "fr"}).Error(); got != `channel: template "promo" (fr) is not submitted: template not approved` {
		t.Fatalf("Error() = %q", got)
	}
}
