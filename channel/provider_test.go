package channel_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
)

type waitErr time.Duration

func (e waitErr) Error() string             { return "slow down" }
func (e waitErr) RetryAfter() time.Duration { return time.Duration(e) }

// RetryAfter finds a provider's wait through any wrapping, and says zero when
// nothing asks for one.
func TestRetryAfter(t *testing.T) {
	cases := []struct {
		err  error
		want time.Duration
	}{
		{nil, 0},
		{errors.New("plain"), 0},
		{waitErr(3 * time.Second), 3 * time.Second},
		{fmt.Errorf("fcm: %w: %w", channel.ErrTransient, waitErr(time.Minute)), time.Minute},
		{errors.Join(errors.New("a"), fmt.Errorf("b: %w", waitErr(2*time.Second))), 2 * time.Second},
		{waitErr(-time.Second), 0},
	}
	for _, c := range cases {
		if got := channel.RetryAfter(c.err); got != c.want {
			t.Errorf("RetryAfter(%v) = %s, want %s", c.err, got, c.want)
		}
	}
	// a retired address is permanent whatever else it says
	if channel.Retryable(fmt.Errorf("%w: %w", channel.ErrAddressRetired, channel.ErrPermanent)) {
		t.Error("a retired address is not retryable")
	}
}
