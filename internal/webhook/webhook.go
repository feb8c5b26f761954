// Package webhook holds what every provider adapter's webhook handler does
// the same way: read a bounded body, and answer the provider according to
// what the inbox (a channel.Receiver) said.
//
// # Concurrency
//
// The functions hold no state and are safe for concurrent use.
//
// # Errors
//
// ReadBody returns the read error with the HTTP status to answer.
package webhook

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/parleyhq/parley/channel"
)

// ReadBody reads the request body, refusing more than max bytes: a declared
// Content-Length over max is refused before reading anything, and a longer
// body is cut by http.MaxBytesReader. On failure it returns the status to
// answer: 413 for a body too large, 400 for one that cannot be read.
func ReadBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, int, error) {
	if r.ContentLength > max {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("webhook: body of %d bytes, at most %d", r.ContentLength, max)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, http.StatusRequestEntityTooLarge, err
		}
		return nil, http.StatusBadRequest, err
	}
	return body, http.StatusOK, nil
}

// Status returns the status to answer a provider after the inbox handled
// its webhook: 200 when it stored it (or already had it, M5), 400 when the
// input can never be stored (channel.ErrInvalidMessage: a retry cannot
// help), 500 otherwise, so that the provider retries.
func Status(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, channel.ErrInvalidMessage):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}
