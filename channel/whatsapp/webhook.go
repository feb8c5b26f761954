package whatsapp

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/internal/webhook"
)

// SignatureHeader is the header Meta signs webhook bodies in.
const SignatureHeader = "X-Hub-Signature-256"

// DefaultMaxBodyBytes is the default size limit of a webhook body: 1 MiB.
const DefaultMaxBodyBytes = 1 << 20

const sigPrefix = "sha256="

// Signature returns the X-Hub-Signature-256 value Meta sends with body:
// "sha256=" and the hex HMAC-SHA256 of the raw body keyed with the app
// secret. Tests and tools use it to sign requests.
func Signature(appSecret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(appSecret))
	m.Write(body)
	return sigPrefix + hex.EncodeToString(m.Sum(nil))
}

// VerifySignature checks header, the full X-Hub-Signature-256 value
// ("sha256=<hex>"), against the HMAC-SHA256 of the raw body keyed with the
// app secret, in constant time. It returns nil when they match, and an
// error matching ErrBadSignature when the secret is empty or the header is
// missing, malformed or does not match.
func VerifySignature(appSecret string, body []byte, header string) error {
	if appSecret == "" {
		return fmt.Errorf("whatsapp: %w: empty app secret", ErrBadSignature)
	}
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(header), sigPrefix)
	if !ok {
		return fmt.Errorf("whatsapp: %w: header does not start with %q", ErrBadSignature, sigPrefix)
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("whatsapp: %w: not a hex SHA-256 digest", ErrBadSignature)
	}
	m := hmac.New(sha256.New, []byte(appSecret))
	m.Write(body)
	if !hmac.Equal(got, m.Sum(nil)) {
		return fmt.Errorf("whatsapp: %w: digest does not match the body", ErrBadSignature)
	}
	return nil
}

// HandlerConfig configures a Handler. AppSecret and VerifyToken are
// required; the zero value of every other field means its default.
type HandlerConfig struct {
	// AppSecret is the Meta app's secret, the key of X-Hub-Signature-256.
	AppSecret string
	// OldAppSecrets are further app secrets whose signatures are accepted,
	// for a rotation: resetting the secret in the app dashboard changes the
	// key of every notification at once. Set AppSecret to the new secret and
	// keep the old one here until the notifications signed with it (Meta
	// retries for up to 7 days) have arrived; then remove it.
	OldAppSecrets []string
	// VerifyToken is the token set in the app's webhook configuration, which
	// Meta sends back in the GET verification handshake.
	VerifyToken string
	// MaxBodyBytes is the size limit of a notification body; larger bodies
	// get 413 before they are read whole. Default: DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxAge, when not zero, leaves out messages and statuses whose
	// timestamp is older than Now minus MaxAge (a replayed capture). Zero,
	// the default, keeps them: Meta retries a failed notification for up to
	// 7 days, and deduplication (M5) and order-independent status merging
	// (S2) already make replays harmless. A value under 7 days drops late
	// retries.
	MaxAge time.Duration
	// Now is the clock for MaxAge and for items without a timestamp.
	// Default: time.Now.
	Now func() time.Time
	// Logger receives what was skipped and why a request failed. Default:
	// no logging.
	Logger *slog.Logger
}

// Handler is the webhook endpoint of the WhatsApp Cloud API: it answers
// Meta's GET verification handshake and turns signed POST notifications
// into calls of a channel.Receiver. It implements http.Handler and is safe
// for concurrent use.
//
// Answers: GET with hub.mode "subscribe" and the right hub.verify_token →
// 200 with hub.challenge as text/plain, else 403. POST: a body over the
// limit → 413; one not received before the server's read deadline → 408; a
// missing or wrong signature (for AppSecret and every one of OldAppSecrets)
// → 403, the Receiver is not called; a body that is not a notification (not
// JSON, or not an object with an array of entries each with an array of
// changes) → 400. Then every readable message and status of the
// notification is given to the Receiver, and the answer is:
//
//	200  every item was stored (or already was, M5), or was refused for good
//	     and logged: a malformed item (a message without an id or a sender, a
//	     status without an id, an item of the wrong shape: Notification.Malformed,
//	     left out while the others are stored), a status for a message no
//	     delivery has (channel.ErrUnknownMessage, once the Receiver has waited
//	     for a send in flight), an item the Receiver refused as invalid
//	     (channel.ErrInvalidMessage, channel.ErrPermanent)
//	500  at least one item was not stored in a way a retry can fix (a store error)
//
// Why these codes: Meta retries a notification answered with anything but
// 200, 4xx included, with decreasing frequency for up to 7 days, and one
// notification carries many items (the statuses of many messages). A 4xx
// for one item that can never be stored would have the whole notification
// sent again for a week, and its other items delayed with it; so those
// items are logged and acknowledged, and 500 is kept for a failure a retry
// can fix. The retry then offers every item again: the Receiver is
// idempotent (M5, S2), so what was stored the first time is not stored
// twice.
//
// # Server timeouts
//
// Mount the Handler on an http.Server with timeouts: without them a client
// that trickles its body a byte at a time holds a handler, a goroutine and a
// connection for as long as it likes. ReadHeaderTimeout of a few seconds,
// ReadTimeout of about 10 s (notifications are small), WriteTimeout longer
// than the time the Receiver takes to store a whole notification, and
// IdleTimeout for keep-alive connections suit it (examples/webhooks sets
// them all).
type Handler struct {
	secrets []string
	token   string
	max     int64
	maxAge  time.Duration
	now     func() time.Time
	log     *slog.Logger
	recv    channel.Receiver
}

var _ http.Handler = (*Handler)(nil)

// NewHandler validates cfg and returns a Handler feeding r. An invalid cfg
// or a nil r gives an error matching ErrConfig.
func NewHandler(cfg HandlerConfig, r channel.Receiver) (*Handler, error) {
	switch {
	case r == nil:
		return nil, fmt.Errorf("whatsapp: %w: nil Receiver", ErrConfig)
	case cfg.AppSecret == "" || slices.Contains(cfg.OldAppSecrets, ""):
		return nil, fmt.Errorf("whatsapp: %w: AppSecret is required, and OldAppSecrets cannot be empty", ErrConfig)
	case cfg.VerifyToken == "":
		return nil, fmt.Errorf("whatsapp: %w: VerifyToken is required", ErrConfig)
	case cfg.MaxBodyBytes < 0:
		return nil, fmt.Errorf("whatsapp: %w: MaxBodyBytes is negative", ErrConfig)
	case cfg.MaxAge < 0:
		return nil, fmt.Errorf("whatsapp: %w: MaxAge is negative", ErrConfig)
	}
	h := &Handler{secrets: append([]string{cfg.AppSecret}, cfg.OldAppSecrets...), token: cfg.VerifyToken, max: cfg.MaxBodyBytes,
		maxAge: cfg.MaxAge, now: cfg.Now, log: cfg.Logger, recv: r}
	if h.max == 0 {
		h.max = DefaultMaxBodyBytes
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		h.handshake(w, r)
	case http.MethodPost:
		h.notify(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// handshake answers the subscription verification request.
func (h *Handler) handshake(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("hub.mode") != "subscribe" ||
		subtle.ConstantTimeCompare([]byte(q.Get("hub.verify_token")), []byte(h.token)) != 1 {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, q.Get("hub.challenge"))
}

// notify handles a notification POST.
func (h *Handler) notify(w http.ResponseWriter, r *http.Request) {
	body, code, err := webhook.ReadBody(w, r, h.max)
	if err != nil {
		h.log.WarnContext(r.Context(), "whatsapp: webhook body not read", "status", code, "error", err)
		http.Error(w, http.StatusText(code), code)
		return
	}
	if err := h.verify(body, r.Header.Get(SignatureHeader)); err != nil {
		h.log.WarnContext(r.Context(), "whatsapp: webhook refused", "error", err)
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	n, err := ParseNotification(body)
	if err != nil {
		h.log.WarnContext(r.Context(), "whatsapp: webhook malformed", "error", err)
		http.Error(w, "malformed notification", http.StatusBadRequest)
		return
	}
	for _, s := range n.Skipped {
		h.log.DebugContext(r.Context(), "whatsapp: webhook item skipped", "item", s)
	}
	for _, s := range n.Malformed {
		h.log.WarnContext(r.Context(), "whatsapp: malformed webhook item acknowledged, the others processed", "item", s)
	}
	code = h.deliver(r, n)
	if code != http.StatusOK {
		http.Error(w, http.StatusText(code), code)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// verify checks header against the body with every secret of the Handler,
// returning nil when one matches, else the error for the current secret.
// Every secret is tried, so the time taken does not tell which one matched.
func (h *Handler) verify(body []byte, header string) error {
	var first error
	ok := false
	for i, s := range h.secrets {
		err := VerifySignature(s, body, header)
		if err == nil {
			ok = true
		} else if i == 0 {
			first = err
		}
	}
	if ok {
		return nil
	}
	return first
}

// deliver gives every item of n to the Receiver and returns the HTTP status
// to answer: 500 when an item was not stored in a way a retry can fix, 200
// otherwise (see Handler).
func (h *Handler) deliver(r *http.Request, n *Notification) int {
	ctx := r.Context()
	now := h.now()
	stale := func(t time.Time) bool { return h.maxAge > 0 && now.Sub(t) > h.maxAge }
	var b webhook.Batch
	var retry []error
	note := func(kind, id, raw string, err error) {
		switch b.Add(err) {
		case webhook.Unknown:
			h.log.WarnContext(ctx, "whatsapp: status of an unknown message acknowledged", "id", id, "status", raw, "error", err)
		case webhook.Invalid:
			h.log.WarnContext(ctx, "whatsapp: "+kind+" refused as invalid, acknowledged", "id", id, "status", raw, "error", err)
		case webhook.Retry:
			retry = append(retry, fmt.Errorf("%s %s %s: %w", kind, raw, id, err))
		}
	}
	for _, in := range n.Inbound {
		if in.ReceivedAt.IsZero() {
			in.ReceivedAt = now
		} else if stale(in.ReceivedAt) {
			h.log.InfoContext(ctx, "whatsapp: message older than MaxAge skipped", "id", in.ProviderID, "at", in.ReceivedAt)
			continue
		}
		note("message", in.ProviderID, "", h.recv.Receive(ctx, in))
	}
	for _, u := range n.Statuses {
		if u.At.IsZero() {
			u.At = now
		} else if stale(u.At) {
			h.log.InfoContext(ctx, "whatsapp: status older than MaxAge skipped", "id", u.ProviderID, "at", u.At)
			continue
		}
		note("status", u.ProviderID, u.Raw, h.recv.ApplyStatus(ctx, u))
	}
	if o := b.Outcome(); o == webhook.Retry {
		h.log.ErrorContext(ctx, "whatsapp: webhook items not stored, Meta will retry", "failed", len(retry),
			"stored", b.Count(webhook.Stored), "error", errors.Join(retry...))
		return o.Code(http.StatusOK)
	}
	return http.StatusOK
}
