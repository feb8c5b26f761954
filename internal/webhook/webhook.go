package webhook

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"

	"github.com/parleyhq/parley/channel"
)

// ReadBody reads the request body, refusing more than max bytes: a declared
// Content-Length over max is refused before reading anything, and a longer
// body is cut by http.MaxBytesReader. On failure it returns the status to
// answer: 413 for a body too large, 408 when the server's read deadline
// (http.Server.ReadTimeout) ended the read, as it does for a client that
// trickles its body, and 400 for a body that cannot be read otherwise.
func ReadBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, int, error) {
	if r.ContentLength > max {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("webhook: body of %d bytes, at most %d", r.ContentLength, max)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var mbe *http.MaxBytesError
		var ne net.Error
		switch {
		case errors.As(err, &mbe):
			return nil, http.StatusRequestEntityTooLarge, err
		case errors.As(err, &ne) && ne.Timeout():
			return nil, http.StatusRequestTimeout, fmt.Errorf("webhook: body not read before the server's read deadline: %w", err)
		}
		return nil, http.StatusBadRequest, err
	}
	return body, http.StatusOK, nil
}

// Outcome is what a webhook handler makes of what the Receiver returned for
// one item (an inbound message or a status update).
type Outcome int

// Outcomes, from the best to the worst: a batch answers for its worst item.
const (
	// Stored: the Receiver stored the item, or already had it (M5), or the
	// item changed nothing (S2). Answer 2xx.
	Stored Outcome = iota
	// Unknown: a status update for a provider message ID no delivery has,
	// after the Receiver waited a bounded time for a send still in flight
	// (channel.ErrUnknownMessage): a message sent outside Parley, or one
	// whose send was never recorded. A retry would not find it either, so
	// it is acknowledged with 2xx and logged, and never fails its batch.
	Unknown
	// Invalid: the item can never be stored (channel.ErrInvalidMessage,
	// channel.ErrPermanent): a retry cannot help. Answer 4xx with the
	// reason, or 2xx and log it when the provider retries 4xx answers too.
	Invalid
	// Retry: the Receiver failed in a way a later retry can fix (a store
	// that is down, a write that lost a race, the end of the request's
	// context): answer 5xx so that the provider retries.
	Retry
)

// String returns the outcome's name: "stored", "unknown", "invalid" or
// "retry".
func (o Outcome) String() string {
	switch o {
	case Stored:
		return "stored"
	case Unknown:
		return "unknown"
	case Invalid:
		return "invalid"
	case Retry:
		return "retry"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Classify maps the error a channel.Receiver returned for one item to an
// Outcome: nil is Stored; an error matching channel.ErrInvalidMessage or
// channel.ErrPermanent is Invalid (a typed permanent error, whatever else
// it matches); one matching channel.ErrUnknownMessage is Unknown; any other
// error, typed or not, is Retry, so that nothing a retry could store is
// acknowledged and lost.
func Classify(err error) Outcome {
	switch {
	case err == nil:
		return Stored
	case errors.Is(err, channel.ErrInvalidMessage), errors.Is(err, channel.ErrPermanent):
		return Invalid
	case errors.Is(err, channel.ErrUnknownMessage):
		return Unknown
	}
	return Retry
}

// Code returns the HTTP status that answers o: 200 for Stored and Unknown,
// invalid for Invalid (400 for a provider that does not retry 4xx answers,
// 200 for one that retries every answer but a 2xx), and 500 for Retry.
func (o Outcome) Code(invalid int) int {
	switch o {
	case Stored, Unknown:
		return http.StatusOK
	case Invalid:
		return invalid
	}
	return http.StatusInternalServerError
}

// Batch folds the outcomes of the items of one request into the answer for
// the whole request: its worst outcome. The zero value is an empty batch,
// whose outcome is Stored.
type Batch struct {
	worst  Outcome
	counts [Retry + 1]int
}

// Add classifies err (see Classify), counts it and returns its outcome.
func (b *Batch) Add(err error) Outcome {
	o := Classify(err)
	b.counts[o]++
	b.worst = max(b.worst, o)
	return o
}

// Outcome returns the worst outcome added, Stored when none was.
func (b *Batch) Outcome() Outcome { return b.worst }

// Count returns how many items had outcome o.
func (b *Batch) Count(o Outcome) int {
	if o < Stored || o > Retry {
		return 0
	}
	return b.counts[o]
}
