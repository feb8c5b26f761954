package fcm

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/channel"
)

// Errors that callers branch on with errors.Is. Send errors also match the
// classification sentinels of package channel: channel.ErrTransient or
// channel.ErrPermanent, and channel.ErrAddressRetired for a dead device
// token.
var (
	// ErrConfig reports an invalid Config, including credentials that are
	// not a service account key.
	ErrConfig = errors.New("invalid configuration")
	// ErrCredentials reports credentials that Google refuses: the token
	// endpoint rejects the service account's signed assertion (a revoked or
	// deleted key, a wrong account), or FCM rejects its access token or
	// denies it the project. Every such error is a *CredentialsError and
	// matches channel.ErrPermanent: nothing will pass until the credentials
	// are fixed.
	ErrCredentials = errors.New("credentials refused")
	// ErrThirdPartyAuth reports FCM's THIRD_PARTY_AUTH_ERROR: the APNs
	// certificate or key (or web push key) configured in the Firebase
	// project is invalid or missing. It is the Firebase project's setup,
	// not these credentials, and matches channel.ErrPermanent.
	ErrThirdPartyAuth = errors.New("APNs or web push credentials of the Firebase project refused")
	// ErrSenderMismatch reports FCM's SENDER_ID_MISMATCH: the device token
	// belongs to another Firebase project than the credentials'. It matches
	// channel.ErrPermanent. The token is not retired: a wrong project in the
	// configuration would otherwise retire every token.
	ErrSenderMismatch = errors.New("device token registered to another Firebase project")
)

// FCM error codes (the errorCode of the FcmError detail of an error
// response) that the Sender gives a meaning to.
const (
	CodeUnregistered     = "UNREGISTERED"
	CodeInvalidArgument  = "INVALID_ARGUMENT"
	CodeQuotaExceeded    = "QUOTA_EXCEEDED"
	CodeUnavailable      = "UNAVAILABLE"
	CodeInternal         = "INTERNAL"
	CodeSenderIDMismatch = "SENDER_ID_MISMATCH"
	CodeThirdPartyAuth   = "THIRD_PARTY_AUTH_ERROR"
	// CodeAPNsAuth is the older name of CodeThirdPartyAuth.
	CodeAPNsAuth = "APNS_AUTH_ERROR"
)

// quotaWait is how long to wait after QUOTA_EXCEEDED when the response says
// nothing: FCM asks for a first delay of at least one minute.
const quotaWait = time.Minute

// maxRetryAfter bounds a Retry-After so that an absurd header cannot stall
// a caller for days.
const maxRetryAfter = 24 * time.Hour

// Error is an error response of the FCM HTTP v1 API to a send:
//
//	{"error": {"code": 404, "message": "Requested entity was not found.",
//	  "status": "NOT_FOUND", "details": [{"@type":
//	  "type.googleapis.com/google.firebase.fcm.v1.FcmError",
//	  "errorCode": "UNREGISTERED"}]}}
//
// Read it with errors.As; it matches its classification with errors.Is:
//
//   - UNREGISTERED, and INVALID_ARGUMENT about the token (see TokenInvalid):
//     channel.ErrAddressRetired and channel.ErrPermanent;
//   - QUOTA_EXCEEDED, UNAVAILABLE, INTERNAL, HTTP 429 and 5xx:
//     channel.ErrTransient, with RetryAfter the server's Retry-After (one
//     minute for QUOTA_EXCEEDED when the server gives none);
//   - HTTP 401 (UNAUTHENTICATED) and 403 (PERMISSION_DENIED): ErrCredentials
//     and channel.ErrPermanent (Send returns them inside a *CredentialsError);
//   - THIRD_PARTY_AUTH_ERROR: ErrThirdPartyAuth; SENDER_ID_MISMATCH:
//     ErrSenderMismatch; both with channel.ErrPermanent;
//   - everything else (an invalid payload, an unknown project): channel.ErrPermanent.
//
// The device token is never part of the error's text.
type Error struct {
	// StatusCode is the HTTP status of the response.
	StatusCode int
	// Status is the canonical status of the error ("NOT_FOUND",
	// "INVALID_ARGUMENT", "RESOURCE_EXHAUSTED").
	Status string
	// Code is FCM's error code (CodeUnregistered, …), "" when the response
	// had no FcmError detail.
	Code string
	// Message is the error message.
	Message string
	// Fields are the request fields the response says are invalid (the
	// field violations of a google.rpc.BadRequest detail), such as
	// "message.token".
	Fields []string

	retryAfter time.Duration
	kind       []error
}

// Error returns "fcm: HTTP <status> <STATUS>: <CODE>: <message>".
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "fcm: HTTP %d", e.StatusCode)
	if e.Status != "" {
		b.WriteString(" ")
		b.WriteString(e.Status)
	}
	if e.Code != "" && e.Code != e.Status {
		b.WriteString(": ")
		b.WriteString(e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if len(e.Fields) > 0 {
		fmt.Fprintf(&b, " (fields %s)", strings.Join(e.Fields, ", "))
	}
	if e.retryAfter > 0 {
		fmt.Fprintf(&b, "; retry after %s", e.retryAfter)
	}
	return b.String()
}

// Unwrap returns the classification sentinels of the error.
func (e *Error) Unwrap() []error { return e.kind }

// RetryAfter returns how long the server asked to wait before a retry (its
// Retry-After header), zero when it did not; channel.RetryAfter finds it.
func (e *Error) RetryAfter() time.Duration { return e.retryAfter }

// TokenInvalid reports whether the error says the device token itself is
// dead or not a token: UNREGISTERED, or INVALID_ARGUMENT with an FcmError
// detail whose field violations, if any, name the token ("message.token").
// FCM answers INVALID_ARGUMENT for bad payloads too (a field violation on
// another field, or no FcmError detail at all), and those never retire a
// token.
func (e *Error) TokenInvalid() bool {
	switch e.Code {
	case CodeUnregistered:
		return true
	case CodeInvalidArgument:
		if len(e.Fields) == 0 {
			return true
		}
		for _, f := range e.Fields {
			if f == "message.token" {
				return true
			}
		}
	}
	return false
}

// unauthenticated reports an access token FCM did not accept (HTTP 401
// without an FCM code of its own), which a fresh token may cure.
func (e *Error) unauthenticated() bool {
	return e.StatusCode == http.StatusUnauthorized && e.Code == ""
}

// credentials reports an error of the credentials themselves.
func (e *Error) credentials() bool {
	if e.Code == CodeThirdPartyAuth || e.Code == CodeAPNsAuth || e.Code == CodeSenderIDMismatch {
		return false
	}
	return e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden ||
		e.Status == "UNAUTHENTICATED" || e.Status == "PERMISSION_DENIED"
}

// classify sets the classification of e.
func (e *Error) classify() {
	switch {
	case e.TokenInvalid():
		e.kind = []error{channel.ErrAddressRetired, channel.ErrPermanent}
	case e.Code == CodeThirdPartyAuth || e.Code == CodeAPNsAuth:
		e.kind = []error{ErrThirdPartyAuth, channel.ErrPermanent}
	case e.Code == CodeSenderIDMismatch:
		e.kind = []error{ErrSenderMismatch, channel.ErrPermanent}
	case e.credentials():
		e.kind = []error{ErrCredentials, channel.ErrPermanent}
	case e.Code == CodeQuotaExceeded:
		if e.retryAfter == 0 {
			e.retryAfter = quotaWait
		}
		e.kind = []error{channel.ErrTransient}
	case e.Code == CodeUnavailable || e.Code == CodeInternal,
		e.StatusCode == http.StatusTooManyRequests, e.StatusCode >= 500:
		e.kind = []error{channel.ErrTransient}
	default:
		e.kind = []error{channel.ErrPermanent}
	}
}

// errorBody is the JSON of an error response (google.rpc.Status).
type errorBody struct {
	Error *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
		Details []struct {
			Type            string `json:"@type"`
			ErrorCode       string `json:"errorCode"`
			FieldViolations []struct {
				Field string `json:"field"`
			} `json:"fieldViolations"`
		} `json:"details"`
	} `json:"error"`
}

const (
	fcmErrorType   = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
	badRequestType = "type.googleapis.com/google.rpc.BadRequest"
	maxMessageLen  = 300
)

// parseResponse reads the response of a send: the message name of a 2xx
// response ("" when the body does not say: the message was accepted all the
// same), or the *Error of any other status, with the Retry-After header
// taken relative to now.
func parseResponse(code int, retryAfter string, body []byte, now time.Time) (string, error) {
	if code >= 200 && code <= 299 {
		var ok struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(body, &ok) != nil {
			return "", nil
		}
		return ok.Name, nil
	}
	e := &Error{StatusCode: code, retryAfter: parseRetryAfter(retryAfter, now)}
	var eb errorBody
	if json.Unmarshal(body, &eb) == nil && eb.Error != nil {
		e.Status, e.Message = eb.Error.Status, eb.Error.Message
		for _, d := range eb.Error.Details {
			switch d.Type {
			case fcmErrorType:
				if e.Code == "" {
					e.Code = d.ErrorCode
				}
			case badRequestType:
				for _, v := range d.FieldViolations {
					e.Fields = append(e.Fields, v.Field)
				}
			}
		}
	} else {
		e.Message = http.StatusText(code)
	}
	e.Message = truncate(e.Message)
	e.classify()
	return "", e
}

// parseRetryAfter reads a Retry-After header: seconds, or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

// CredentialsError reports credentials that Google refused (ErrCredentials).
// It matches ErrCredentials and channel.ErrPermanent, and unwraps to the
// response's *Error when FCM itself refused. It never holds the key or an
// access token.
type CredentialsError struct {
	// Account is the service account's email (client_email).
	Account string
	// Op is where the refusal came: "token exchange" (the OAuth2 token
	// endpoint) or "send" (FCM).
	Op string
	// StatusCode is the HTTP status of the refusal.
	StatusCode int
	// Reason is what the server said ("invalid_grant: Invalid JWT
	// Signature.").
	Reason string
	// Err is FCM's *Error for a refusal at send, else nil.
	Err error
}

// Error says that the credentials are wrong, and why.
func (e *CredentialsError) Error() string {
	msg := fmt.Sprintf("fcm: credentials of service account %q refused at %s (HTTP %d)", e.Account, e.Op, e.StatusCode)
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

// Unwrap returns ErrCredentials, channel.ErrPermanent and Err.
func (e *CredentialsError) Unwrap() []error {
	errs := []error{ErrCredentials, channel.ErrPermanent}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// truncate cuts s to maxMessageLen bytes at a character boundary.
func truncate(s string) string {
	if len(s) <= maxMessageLen {
		return s
	}
	i := maxMessageLen
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

func invalidf(format string, args ...any) error {
	return fmt.Errorf("fcm: %w (%w): %s", channel.ErrInvalidMessage, channel.ErrPermanent, fmt.Sprintf(format, args...))
}
