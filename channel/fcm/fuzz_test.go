package fcm

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
)

// FuzzParseResponse: any status, Retry-After and body give a result without
// panic: a 2xx is accepted; anything else is an *Error in exactly one class
// (transient or permanent), with a wait within bounds, that retires a token
// only for UNREGISTERED or INVALID_ARGUMENT, and whose text stays short.
func FuzzParseResponse(f *testing.F) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	f.Add(200, "", []byte(`{"name":"projects/p/messages/0:1500415314455276%31bd1c9631bd1c96"}`))
	f.Add(200, "", []byte(`not json`))
	f.Add(404, "", []byte(`{"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}`))
	f.Add(400, "", []byte(`{"error":{"code":400,"status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"INVALID_ARGUMENT"},{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"message.token"}]}]}}`))
	f.Add(400, "", []byte(`{"error":{"code":400,"status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"message.data[0].value"}]}]}}`))
	f.Add(429, "30", []byte(`{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"QUOTA_EXCEEDED"}]}}`))
	f.Add(503, "Mon, 02 Mar 2026 09:01:30 GMT", []byte(`{"error":{"code":503,"status":"UNAVAILABLE"}}`))
	f.Add(503, "-5", []byte(``))
	f.Add(401, "99999999999999999999", []byte(`{"error":{"code":401,"status":"UNAUTHENTICATED","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"THIRD_PARTY_AUTH_ERROR"}]}}`))
	f.Add(502, "", []byte(`<!DOCTYPE html><title>Error 502</title>`))
	f.Add(0, "", []byte(`{"error":null}`))
	f.Add(-1, "1", []byte(`{"error":{"details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError"}]}}`))
	f.Fuzz(func(t *testing.T, code int, retryAfter string, body []byte) {
		name, err := parseResponse(code, retryAfter, body, now)
		if code >= 200 && code <= 299 {
			if err != nil {
				t.Fatalf("a %d was refused: %v", code, err)
			}
			return
		}
		if name != "" {
			t.Fatalf("a refusal with a name %q", name)
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("HTTP %d: %T %v, want *Error", code, err, err)
		}
		if errors.Is(err, channel.ErrTransient) == errors.Is(err, channel.ErrPermanent) {
			t.Fatalf("HTTP %d %q: transient and permanent both %v", code, e.Code, errors.Is(err, channel.ErrTransient))
		}
		if errors.Is(err, channel.ErrAddressRetired) {
			if !errors.Is(err, channel.ErrPermanent) || (e.Code != CodeUnregistered && e.Code != CodeInvalidArgument) {
				t.Fatalf("retired by %q: %v", e.Code, err)
			}
		}
		if ra := e.RetryAfter(); ra < 0 || ra > maxRetryAfter {
			t.Fatalf("RetryAfter %s out of bounds (header %q)", ra, retryAfter)
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "fcm: HTTP ") || len(e.Message) > maxMessageLen+len("…") {
			t.Fatalf("error text %q", msg)
		}
	})
}
