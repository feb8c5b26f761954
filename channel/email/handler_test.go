package email

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
)

var hookSecret = []byte("webhook-secret-0123456789abcdef")

// recorder is a channel.Receiver that stores inbound messages once per
// ProviderID (M5) and can be told to fail.
type recorder struct {
	mu     sync.Mutex
	stored []channel.Inbound
	calls  int
	err    error
}

func (r *recorder) Receive(_ context.Context, in channel.Inbound) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.err != nil {
		return r.err
	}
	for _, s := range r.stored {
		if s.ProviderID == in.ProviderID {
			return nil
		}
	}
	r.stored = append(r.stored, in)
	return nil
}

func (r *recorder) ApplyStatus(context.Context, channel.StatusUpdate) error { return nil }

func (r *recorder) snapshot() ([]channel.Inbound, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]channel.Inbound(nil), r.stored...), r.calls
}

const rawReply = "From: Jane <jane@example.org>\r\nTo: hello@studio.example\r\nSubject: Re: class\r\n" +
	"Message-ID: <r1@example.org>\r\nIn-Reply-To: <k3xq2@studio.example>\r\n\r\nSee you!\r\n\r\n" +
	"On Sat, Mar 14, 2026 at 9:30 AM Studio <hello@studio.example> wrote:\r\n> Hi\r\n"

func newTestHandler(t *testing.T, r channel.Receiver, mod func(*HandlerConfig)) *Handler {
	t.Helper()
	cfg := HandlerConfig{Secret: hookSecret, Now: fixedClock}
	if mod != nil {
		mod(&cfg)
	}
	h, err := NewHandler(cfg, r)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func signedRequest(body []byte, contentType string, at time.Time, secret []byte) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/hooks/email", bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set(SignatureHeader, Sign(secret, at, body))
	return req
}

func serve(h http.Handler, req *http.Request) int {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Code
}

// A signed raw message is parsed and stored before the 200; the same
// delivery again answers 200 and stores nothing new (M5).
func TestHandlerStoresSignedMessageOnce(t *testing.T) {
	rec := &recorder{}
	h := newTestHandler(t, rec, nil)
	body := []byte(rawReply)
	for range 2 {
		if code := serve(h, signedRequest(body, "message/rfc822", t0, hookSecret)); code != http.StatusOK {
			t.Fatalf("status %d, want 200", code)
		}
	}
	stored, calls := rec.snapshot()
	if len(stored) != 1 || calls != 2 {
		t.Fatalf("stored %d after %d calls, want 1 after 2", len(stored), calls)
	}
	in := stored[0]
	if in.ProviderID != "r1@example.org" || in.Text != "See you!" || in.From != "jane@example.org" || in.InReplyTo[0] != "k3xq2@studio.example" {
		t.Errorf("stored %+v", in)
	}
}

// Multipart and URL-encoded forms carry the raw message in the "email"
// field (the field name is configurable).
func TestHandlerFormBodies(t *testing.T) {
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	_ = mw.WriteField("to", "hello@studio.example")
	_ = mw.WriteField("email", rawReply)
	_ = mw.Close()
	form := url.Values{"raw": {rawReply}}.Encode()

	rec := &recorder{}
	h := newTestHandler(t, rec, nil)
	if code := serve(h, signedRequest(mp.Bytes(), mw.FormDataContentType(), t0, hookSecret)); code != http.StatusOK {
		t.Fatalf("multipart: status %d", code)
	}
	h2 := newTestHandler(t, rec, func(c *HandlerConfig) { c.FormField = "raw" })
	if code := serve(h2, signedRequest([]byte(form), "application/x-www-form-urlencoded", t0, hookSecret)); code != http.StatusOK {
		t.Fatalf("urlencoded: status %d", code)
	}
	if code := serve(h, signedRequest([]byte(form), "application/x-www-form-urlencoded", t0, hookSecret)); code != http.StatusBadRequest {
		t.Fatalf("form without the field: status %d, want 400", code)
	}
	if stored, _ := rec.snapshot(); len(stored) != 1 {
		t.Fatalf("stored %d, want 1 (same message twice)", len(stored))
	}
}

// Bad, tampered, stale or missing signatures answer 403 and never reach the
// Receiver.
func TestHandlerRejectsBadSignatures(t *testing.T) {
	rec := &recorder{}
	h := newTestHandler(t, rec, nil)
	body := []byte(rawReply)
	tampered := signedRequest(body, "message/rfc822", t0, hookSecret)
	tampered.Body = io.NopCloser(strings.NewReader(strings.Replace(rawReply, "See you!", "Pay here!", 1)))
	missing := signedRequest(body, "message/rfc822", t0, hookSecret)
	missing.Header.Del(SignatureHeader)
	garbage := signedRequest(body, "message/rfc822", t0, hookSecret)
	garbage.Header.Set(SignatureHeader, "t=abc,v1=zz")
	cases := map[string]*http.Request{
		"tampered body": tampered,
		"wrong secret":  signedRequest(body, "message/rfc822", t0, []byte("some-other-secret-0123456789")),
		"stale":         signedRequest(body, "message/rfc822", t0.Add(-6*time.Minute), hookSecret),
		"future":        signedRequest(body, "message/rfc822", t0.Add(6*time.Minute), hookSecret),
		"missing":       missing,
		"garbage":       garbage,
	}
	for name, req := range cases {
		if code := serve(h, req); code != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", name, code)
		}
	}
	if _, calls := rec.snapshot(); calls != 0 {
		t.Errorf("Receiver called %d times for bad signatures", calls)
	}
	// Within the tolerance is fine.
	if code := serve(h, signedRequest(body, "message/rfc822", t0.Add(-4*time.Minute), hookSecret)); code != http.StatusOK {
		t.Errorf("4 minutes old: status %d", code)
	}
}

// Receiver errors map to 400 with the reason (invalid for good: the relay
// rejects the message and its sender gets a bounce), 500 (a retry can store
// it: the relay defers, the mail stays queued), or 200 for an error that
// says the message is unknown (nothing a retry could change).
func TestHandlerReceiverErrors(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{fmt.Errorf("inbox: %w: no contact", channel.ErrInvalidMessage), http.StatusBadRequest},
		{fmt.Errorf("inbox: %w: cannot be stored", channel.ErrPermanent), http.StatusBadRequest},
		{errors.New("store: connection lost"), http.StatusInternalServerError},
		{context.DeadlineExceeded, http.StatusInternalServerError},
		{fmt.Errorf("inbox: %w", channel.ErrUnknownMessage), http.StatusOK},
	} {
		rec := &recorder{err: tc.err}
		h := newTestHandler(t, rec, nil)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, signedRequest([]byte(rawReply), "message/rfc822", t0, hookSecret))
		if w.Code != tc.want {
			t.Errorf("receiver error %v: status %d, want %d", tc.err, w.Code, tc.want)
		}
		if tc.want == http.StatusBadRequest && !strings.Contains(w.Body.String(), tc.err.Error()) {
			t.Errorf("receiver error %v: 400 without the reason: %q", tc.err, w.Body)
		}
	}
}

func TestHandlerMethodSizeAndMalformed(t *testing.T) {
	rec := &recorder{}
	h := newTestHandler(t, rec, func(c *HandlerConfig) { c.MaxBytes = 1024 })
	get := httptest.NewRequest(http.MethodGet, "/hooks/email", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, get)
	if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != http.MethodPost {
		t.Errorf("GET: %d Allow=%q", w.Code, w.Header().Get("Allow"))
	}
	big := bytes.Repeat([]byte("x"), 2048)
	if code := serve(h, signedRequest(big, "message/rfc822", t0, hookSecret)); code != http.StatusRequestEntityTooLarge {
		t.Errorf("declared large body: %d", code)
	}
	// A body of unknown length is cut at the limit too.
	req := signedRequest(big, "message/rfc822", t0, hookSecret)
	req.ContentLength = -1
	req.Body = io.NopCloser(io.MultiReader(bytes.NewReader(big), neverEnding{}))
	if code := serve(h, req); code != http.StatusRequestEntityTooLarge {
		t.Errorf("streamed large body: %d", code)
	}
	for name, body := range map[string]string{"empty": "", "not mail": "hello world", "no from": "Subject: x\r\n\r\nbody"} {
		if code := serve(h, signedRequest([]byte(body), "message/rfc822", t0, hookSecret)); code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", name, code)
		}
	}
	if _, calls := rec.snapshot(); calls != 0 {
		t.Errorf("Receiver called %d times", calls)
	}
}

// neverEnding is a body that would never finish if read whole.
type neverEnding struct{}

func (neverEnding) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'y'
	}
	return len(p), nil
}

// A reply to a per-thread reply address reaches the Receiver with its
// thread token.
func TestHandlerThreadToken(t *testing.T) {
	addr, _ := ReplyAddress(replySecret, "reply@in.studio.example", "th_77")
	rec := &recorder{}
	h := newTestHandler(t, rec, func(c *HandlerConfig) { c.ReplySecrets = [][]byte{replySecret} })
	body := []byte(strings.Replace(rawReply, "To: hello@studio.example", "To: "+addr, 1))
	if code := serve(h, signedRequest(body, "", t0, hookSecret)); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	if stored, _ := rec.snapshot(); len(stored) != 1 || stored[0].ThreadToken != "th_77" {
		t.Fatalf("stored %+v", stored)
	}
}

func TestNewHandlerValidates(t *testing.T) {
	if _, err := NewHandler(HandlerConfig{Secret: hookSecret}, nil); !errors.Is(err, ErrConfig) {
		t.Errorf("nil receiver: %v", err)
	}
	if _, err := NewHandler(HandlerConfig{Secret: []byte("short")}, &recorder{}); !errors.Is(err, ErrConfig) {
		t.Errorf("short secret: %v", err)
	}
	if _, err := NewHandler(HandlerConfig{Secret: hookSecret, MaxBytes: -1}, &recorder{}); !errors.Is(err, ErrConfig) {
		t.Errorf("negative MaxBytes: %v", err)
	}
}

func TestVerifySignatureRotation(t *testing.T) {
	body := []byte("x")
	oldSig := Sign([]byte("old-secret-0123456789"), t0, body)
	newSig := Sign(hookSecret, t0, body)
	both := oldSig + "," + newSig[strings.Index(newSig, "v1="):]
	if err := VerifySignature(hookSecret, body, both, t0, 0); err != nil {
		t.Errorf("rotation header: %v", err)
	}
	if err := VerifySignature(hookSecret, body, oldSig, t0, 0); !errors.Is(err, ErrBadSignature) {
		t.Errorf("old only: %v", err)
	}
	if err := VerifySignature(hookSecret, body, newSig+",t=1", t0, 0); !errors.Is(err, ErrBadSignature) {
		t.Errorf("two timestamps: %v", err)
	}
}

// A message the parser cannot read whole is stored with what it kept and
// marked truncated, answered 200 and logged: never an empty body stored
// without saying so.
func TestHandlerTruncatedMessageStoredAndMarked(t *testing.T) {
	rec := &recorder{}
	var log bytes.Buffer
	h := newTestHandler(t, rec, func(c *HandlerConfig) { c.Logger = slog.New(slog.NewTextHandler(&log, nil)) })
	body := []byte(manyParts(300, "The photos are attached."))
	if code := serve(h, signedRequest(body, "message/rfc822", t0, hookSecret)); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	stored, _ := rec.snapshot()
	if len(stored) != 1 || !stored[0].Truncated || stored[0].Text != "The photos are attached." {
		t.Fatalf("stored %+v", stored)
	}
	if !strings.Contains(log.String(), "truncated") {
		t.Errorf("truncation not logged: %s", log.String())
	}
	rec2 := &recorder{}
	h2 := newTestHandler(t, rec2, nil)
	deep := []byte(nested(MaxDepth+2, "buried", ""))
	if code := serve(h2, signedRequest(deep, "message/rfc822", t0, hookSecret)); code != http.StatusOK {
		t.Fatalf("deep: status %d", code)
	}
	if stored, _ := rec2.snapshot(); len(stored) != 1 || stored[0].Text != "" || !stored[0].Truncated {
		t.Fatalf("deep: stored %+v, want an empty text marked truncated", stored)
	}
}
