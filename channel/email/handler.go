package email

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/internal/webhook"
)

// SignatureHeader is the request header that carries the signature of an
// inbound email webhook: "t=<unix seconds>,v1=<hex HMAC-SHA256>".
const SignatureHeader = "X-Parley-Signature"

// DefaultTolerance is how far the signed timestamp may be from the
// Handler's clock, either way, before a request is refused as a replay.
const DefaultTolerance = 5 * time.Minute

// Sign returns the SignatureHeader value for a webhook body sent at t: the
// hex HMAC-SHA256 under secret of the Unix seconds of t, ".", and the body.
// The relay that posts inbound mail to the Handler calls it (or computes
// the same in its own language).
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(signatureMAC(secret, ts, body))
}

func signatureMAC(secret []byte, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// VerifySignature checks a SignatureHeader value for body: its timestamp
// must be within tolerance of now (either way; a tolerance of zero or less
// means DefaultTolerance), and one of its v1 values must equal the
// HMAC-SHA256 of the timestamp and body under secret, compared in constant
// time. Several v1 values are allowed so that a relay can sign with an old
// and a new secret while they rotate. Any failure matches ErrBadSignature.
func VerifySignature(secret []byte, body []byte, header string, now time.Time, tolerance time.Duration) error {
	if len(secret) == 0 {
		return fmt.Errorf("%w: no secret", ErrBadSignature)
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	var ts string
	var sigs [][]byte
	for _, f := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(f), "=")
		if !ok {
			return fmt.Errorf("%w: malformed header", ErrBadSignature)
		}
		switch k {
		case "t":
			if ts != "" {
				return fmt.Errorf("%w: two timestamps", ErrBadSignature)
			}
			ts = v
		case "v1":
			b, err := hex.DecodeString(v)
			if err != nil || len(b) != sha256.Size {
				return fmt.Errorf("%w: malformed v1 value", ErrBadSignature)
			}
			sigs = append(sigs, b)
		}
	}
	if ts == "" || len(sigs) == 0 {
		return fmt.Errorf("%w: missing t or v1", ErrBadSignature)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sec <= 0 || strconv.FormatInt(sec, 10) != ts {
		return fmt.Errorf("%w: malformed timestamp", ErrBadSignature)
	}
	skew := now.Sub(time.Unix(sec, 0))
	if skew > tolerance || skew < -tolerance {
		return fmt.Errorf("%w: timestamp %s from now, over the %s tolerance", ErrBadSignature, skew, tolerance)
	}
	want := signatureMAC(secret, ts, body)
	ok := false
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			ok = true
		}
	}
	if !ok {
		return fmt.Errorf("%w: signature does not match", ErrBadSignature)
	}
	return nil
}

// HandlerConfig configures a Handler. Secret is required.
type HandlerConfig struct {
	// Secret is the key shared with the relay that posts inbound mail; at
	// least MinSecretBytes long.
	Secret []byte
	// ReplySecrets verify per-thread reply addresses (see Parser).
	ReplySecrets [][]byte
	// MaxBytes is the size limit of a request body; zero means
	// DefaultMaxMessageBytes plus 64 KiB for form overhead. Larger bodies
	// are refused with 413 before they are read whole.
	MaxBytes int64
	// Tolerance is how old (or how far ahead) a signed timestamp may be;
	// zero means DefaultTolerance.
	Tolerance time.Duration
	// FormField is the multipart or URL-encoded form field that carries the
	// raw message when the body is a form; empty means "email".
	FormField string
	// Now is the clock for timestamps; nil means time.Now.
	Now func() time.Time
	// Logger receives one record per refused or failed request; nil means
	// no logging.
	Logger *slog.Logger
	// TracerProvider and MeterProvider receive the Handler's spans and
	// metrics (see the package doc). Default: the otel global providers,
	// no-ops until the host installs an SDK.
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
}

// Handler is the webhook endpoint for inbound email. A relay (an
// inbound-parse service, an MTA pipe, a cloud email worker) POSTs each
// received message to it, either as the raw RFC 5322 bytes (any content
// type but forms, e.g. message/rfc822) or as a multipart/form-data or
// application/x-www-form-urlencoded form whose field FormField holds them.
// The request must carry SignatureHeader, computed with Sign over the exact
// body bytes.
//
// Responses:
//
//	200  the Receiver stored the message, or already had it (M5); a message the
//	     parser could not read whole is stored with what it kept, marked
//	     channel.Inbound.Truncated, and logged
//	400  a body that holds no parsable message, or a message the Receiver refuses
//	     as invalid (channel.ErrInvalidMessage, channel.ErrPermanent), with the reason
//	403  a missing, wrong or stale signature; the body is not parsed, the Receiver
//	     not called
//	405  a method other than POST
//	408  a body not received before the server's read deadline (http.Server.ReadTimeout)
//	413  a body over MaxBytes
//	500  the Receiver failed in a way a retry can fix (a store error)
//
// Why these codes: the relay this Handler is made for (it signs with
// SignatureHeader, so it is the host's own: an MTA pipe, a mail worker)
// answers the sending mail server from them. A 5xx becomes a temporary
// SMTP failure (exit status 75, EX_TEMPFAIL, from an MTA pipe; a thrown
// error from a mail worker): the message stays queued and is delivered
// again for days (Postfix keeps it 5 days by default), so a store outage
// loses nothing. A 4xx becomes a rejection with its reason: no retry
// could store that message, and its sender gets a bounce saying why
// rather than a silence. It is safe for concurrent use.
//
// # Server timeouts
//
// Mount the Handler on an http.Server with timeouts: without them a client
// that trickles its body a byte at a time holds a handler, a goroutine and a
// connection for as long as it likes. A message may weigh MaxBytes (25 MiB
// by default), so give ReadTimeout room for that at the relay's bandwidth
// (a minute, say), with ReadHeaderTimeout of a few seconds, WriteTimeout
// longer than the Receiver's slowest store write, and IdleTimeout for
// keep-alive connections (examples/webhooks sets them all).
type Handler struct {
	cfg    HandlerConfig
	parser Parser
	recv   channel.Receiver
	log    *slog.Logger
	tel    *webhook.Telemetry
}

var _ http.Handler = (*Handler)(nil)

// NewHandler returns a Handler that feeds r. Errors match ErrConfig.
func NewHandler(cfg HandlerConfig, r channel.Receiver) (*Handler, error) {
	if r == nil {
		return nil, fmt.Errorf("email: handler: %w: nil Receiver", ErrConfig)
	}
	if len(cfg.Secret) < MinSecretBytes {
		return nil, fmt.Errorf("email: handler: %w: Secret shorter than %d bytes", ErrConfig, MinSecretBytes)
	}
	if cfg.MaxBytes < 0 || cfg.Tolerance < 0 {
		return nil, fmt.Errorf("email: handler: %w: negative MaxBytes or Tolerance", ErrConfig)
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = DefaultMaxMessageBytes + 64<<10
	}
	if cfg.Tolerance == 0 {
		cfg.Tolerance = DefaultTolerance
	}
	if cfg.FormField == "" {
		cfg.FormField = "email"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Secret = bytes.Clone(cfg.Secret)
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{cfg: cfg, recv: r, log: log, tel: webhook.NewTelemetry("email", scope, cfg.TracerProvider, cfg.MeterProvider)}
	h.parser = Parser{MaxBytes: cfg.MaxBytes, Now: cfg.Now}
	for _, s := range cfg.ReplySecrets {
		h.parser.ReplySecrets = append(h.parser.ReplySecrets, bytes.Clone(s))
	}
	return h, nil
}

// scope is the instrumentation scope of the package's spans and metrics.
const scope = "github.com/parleyhq/parley/channel/email"

// ServeHTTP handles one webhook request; see Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.tel.Serve(w, r, h.serve) }

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, code, err := webhook.ReadBody(w, r, h.cfg.MaxBytes)
	if err != nil {
		h.fail(w, r, code, http.StatusText(code), err)
		return
	}
	if err := VerifySignature(h.cfg.Secret, body, r.Header.Get(SignatureHeader), h.cfg.Now(), h.cfg.Tolerance); err != nil {
		h.fail(w, r, http.StatusForbidden, "forbidden", err)
		return
	}
	raw, err := extractRaw(r.Header.Get("Content-Type"), body, h.cfg.FormField)
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, "no message in body", err)
		return
	}
	in, err := h.parser.Parse(bytes.NewReader(raw))
	if err != nil {
		code := http.StatusBadRequest
		if errors.Is(err, ErrTooLarge) {
			code = http.StatusRequestEntityTooLarge
		}
		h.fail(w, r, code, "malformed message", err)
		return
	}
	if in.Truncated {
		h.log.LogAttrs(context.WithoutCancel(r.Context()), slog.LevelWarn, "email: inbound message truncated: kept what could be parsed",
			slog.String("message_id", in.ProviderID), slog.Int("attachments", len(in.Attachments)), slog.Int("text_bytes", len(in.Text)))
	}
	err = h.recv.Receive(r.Context(), in)
	o := webhook.Classify(err)
	webhook.Note(w, o)
	switch o {
	case webhook.Unknown:
		h.log.LogAttrs(context.WithoutCancel(r.Context()), slog.LevelWarn, "email: inbound message acknowledged, not stored",
			slog.String("message_id", in.ProviderID), slog.Any("error", err))
	case webhook.Invalid:
		h.fail(w, r, o.Code(http.StatusBadRequest), "refused as invalid: "+err.Error(), err)
		return
	case webhook.Retry:
		h.fail(w, r, o.Code(http.StatusBadRequest), "not stored", err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "ok\n")
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, code int, msg string, err error) {
	h.log.LogAttrs(context.WithoutCancel(r.Context()), slog.LevelWarn, "email: inbound webhook refused",
		slog.Int("status", code), slog.String("reason", msg), slog.Any("error", err))
	http.Error(w, msg, code)
}

// extractRaw returns the raw message a webhook body carries.
func extractRaw(contentType string, body []byte, field string) ([]byte, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = ""
	}
	switch mt {
	case "multipart/form-data":
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				return nil, fmt.Errorf("%w: no form field %q", ErrMalformed, field)
			}
			if err != nil {
				return nil, fmt.Errorf("%w: form: %v", ErrMalformed, err)
			}
			if part.FormName() != field {
				continue
			}
			raw, err := io.ReadAll(part)
			if err != nil {
				return nil, fmt.Errorf("%w: form field %q: %v", ErrMalformed, field, err)
			}
			return raw, nil
		}
	case "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("%w: form: %v", ErrMalformed, err)
		}
		if !vals.Has(field) {
			return nil, fmt.Errorf("%w: no form field %q", ErrMalformed, field)
		}
		return []byte(vals.Get(field)), nil
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, fmt.Errorf("%w: empty body", ErrMalformed)
	}
	return body, nil
}
