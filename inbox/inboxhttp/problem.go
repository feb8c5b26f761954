package inboxhttp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/parleyhq/parley/inbox"
)

// Problem types: stable URNs a client branches on (RFC 9457 "type").
const (
	TypeInvalid              = "urn:parley:problem:invalid-argument"
	TypeUnauthenticated      = "urn:parley:problem:unauthenticated"
	TypeForbidden            = "urn:parley:problem:forbidden"
	TypeCrossOrigin          = "urn:parley:problem:cross-origin"
	TypeNotFound             = "urn:parley:problem:not-found"
	TypeConflict             = "urn:parley:problem:conflict"
	TypeMarkUnreadNotAllowed = "urn:parley:problem:mark-unread-not-allowed"
	TypeCannotSend           = "urn:parley:problem:cannot-send"
	TypeTooLate              = "urn:parley:problem:too-late"
	TypeIdempotencyInFlight  = "urn:parley:problem:idempotency-in-progress"
	TypeIdempotencyMismatch  = "urn:parley:problem:idempotency-key-reused"
	TypeUnsupportedMediaType = "urn:parley:problem:unsupported-media-type"
	TypeTooLarge             = "urn:parley:problem:too-large"
	TypeUnavailable          = "urn:parley:problem:unavailable"
	TypeInternal             = "urn:parley:problem:internal"
)

// Problem is an RFC 9457 problem detail: the body of every error answer.
// It is an error, so endpoints return it as one.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	// Problems are the preflight's problems of a send refused with
	// TypeCannotSend, each with its position when it has one (C5).
	Problems []SendProblem `json:"problems,omitempty"`
	// Recipients are the preflight's per-recipient verdicts of a refused
	// send.
	Recipients []RecipientJSON `json:"recipients,omitempty"`
}

// Error returns the title and detail.
func (p *Problem) Error() string { return "inboxhttp: " + p.Title + ": " + p.Detail }

func invalid(format string, args ...any) error {
	return &Problem{Type: TypeInvalid, Title: "Invalid argument", Status: http.StatusBadRequest, Detail: fmt.Sprintf(format, args...)}
}

// problemFor maps an error to its problem: the inbox's typed errors to
// their status codes, anything unknown to 500 without its text.
func problemFor(err error) Problem {
	var p *Problem
	if errors.As(err, &p) {
		return *p
	}
	mk := func(typ, title string, code int) Problem {
		return Problem{Type: typ, Title: title, Status: code, Detail: err.Error()}
	}
	switch {
	case errors.Is(err, ErrUnauthenticated):
		return mk(TypeUnauthenticated, "Unauthenticated", http.StatusUnauthorized)
	case errors.Is(err, ErrForbidden):
		return mk(TypeForbidden, "Forbidden", http.StatusForbidden)
	case errors.Is(err, inbox.ErrNotFound):
		return mk(TypeNotFound, "Not found", http.StatusNotFound)
	case errors.Is(err, inbox.ErrMarkUnreadNotAllowed):
		return mk(TypeMarkUnreadNotAllowed, "Mark as unread not allowed", http.StatusUnprocessableEntity)
	case errors.Is(err, inbox.ErrTooLate):
		return mk(TypeTooLate, "Too late to cancel", http.StatusConflict)
	case errors.Is(err, inbox.ErrConflict):
		return mk(TypeConflict, "Conflict", http.StatusConflict)
	case errors.Is(err, inbox.ErrInvalidArgument):
		return mk(TypeInvalid, "Invalid argument", http.StatusBadRequest)
	case errors.Is(err, inbox.ErrClosed), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return mk(TypeUnavailable, "Unavailable", http.StatusServiceUnavailable)
	}
	return Problem{Type: TypeInternal, Title: "Internal error", Status: http.StatusInternalServerError,
		Detail: "the request failed; the server's log has the reason"}
}

func writeProblem(w http.ResponseWriter, r *http.Request, p Problem) {
	if p.Instance == "" {
		// the path the client asked for, before any StripPrefix of the host
		p.Instance, _, _ = strings.Cut(r.RequestURI, "?")
		if p.Instance == "" {
			p.Instance = r.URL.Path
		}
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="parley"`)
	}
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}
