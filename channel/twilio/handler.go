package twilio

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/internal/webhook"
	"github.com/parleyhq/parley/status"
)

// IdempotencyHeader is the header in which Twilio sends a token that stays
// the same when it retries a webhook.
const IdempotencyHeader = "I-Twilio-Idempotency-Token"

// Handler defaults.
const (
	// DefaultMaxBodyBytes is the default body size limit: 1 MiB.
	DefaultMaxBodyBytes = 1 << 20
	// DefaultReplayWindow is how long idempotency tokens are remembered by
	// default; Twilio's retries of a webhook come well within it.
	DefaultReplayWindow = 24 * time.Hour
	// DefaultReplayCapacity is how many idempotency tokens are remembered
	// by default.
	DefaultReplayCapacity = 10_000
	// MaxMedia is the largest NumMedia an inbound webhook may declare.
	MaxMedia = 20
)

// emptyTwiML is the answer to a webhook: a TwiML document that does nothing.
const emptyTwiML = `<?xml version="1.0" encoding="UTF-8"?><Response></Response>`

// HandlerConfig configures a Handler. AuthToken and one of PublicURL or
// BaseURL are required.
type HandlerConfig struct {
	// AuthToken is the auth token of the account that signs the webhooks.
	AuthToken string
	// BaseURL is the public origin Twilio calls, "https://hooks.example.com"
	// (scheme, host and port, no path). The URL checked against the
	// signature is BaseURL followed by the request's original request-target
	// (r.RequestURI, which http.StripPrefix leaves as received).
	BaseURL string
	// PublicURL, when set, returns the full URL Twilio requested, query
	// included, for a request; use it when a proxy rewrites paths. It takes
	// precedence over BaseURL.
	PublicURL func(r *http.Request) string
	// MaxBodyBytes is the largest body accepted; larger ones get 413 before
	// being read whole. Zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// ReplayWindow is how long an idempotency token is remembered; zero
	// means DefaultReplayWindow.
	ReplayWindow time.Duration
	// ReplayCapacity is how many tokens are remembered at most; zero means
	// DefaultReplayCapacity.
	ReplayCapacity int
	// Now is the clock for ReceivedAt, status times and the replay window;
	// nil means time.Now.
	Now func() time.Time
	// Logger receives a record for every refused or failed webhook; nil
	// discards them.
	Logger *slog.Logger
}

// Handler is the http.Handler for Twilio's messaging webhooks: incoming
// messages (SMS, MMS, WhatsApp) and status callbacks of outbound messages,
// on one URL or several. It verifies X-Twilio-Signature before anything else,
// then feeds the channel.Receiver and answers:
//
//	200 (empty TwiML)  stored, a duplicate (M5), or a replayed idempotency token
//	400                malformed body or parameters, or the Receiver refused it as invalid
//	403                missing or bad signature; the Receiver is not called
//	405                not a POST
//	413                body larger than MaxBodyBytes
//	500                the Receiver failed (store error, status before its send): Twilio retries
//
// Configure the webhooks at Twilio with method POST (HTTP GET webhooks are
// refused). A status callback carries no channel kind: the StatusUpdate says
// channel.WhatsApp for whatsapp: addresses and channel.SMS otherwise (MMS
// included); the inbox matches updates by ProviderID. Times (ReceivedAt, At)
// are the Handler's clock, as Twilio's messaging webhooks carry no timestamp.
//
// It is safe for concurrent use.
type Handler struct {
	cfg    HandlerConfig
	recv   channel.Receiver
	now    func() time.Time
	log    *slog.Logger
	replay *replayCache
}

var _ http.Handler = (*Handler)(nil)

// NewHandler validates cfg and returns a Handler that feeds r. An invalid
// configuration gives an error matching ErrConfig.
func NewHandler(cfg HandlerConfig, r channel.Receiver) (*Handler, error) {
	if r == nil {
		return nil, fmt.Errorf("twilio: %w: nil Receiver", ErrConfig)
	}
	if cfg.AuthToken == "" {
		return nil, fmt.Errorf("twilio: %w: AuthToken is required", ErrConfig)
	}
	if cfg.PublicURL == nil {
		u, err := url.Parse(cfg.BaseURL)
		if cfg.BaseURL == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
			strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("twilio: %w: BaseURL %q must be an http(s) origin with no path, or set PublicURL", ErrConfig, cfg.BaseURL)
		}
		cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	}
	if cfg.MaxBodyBytes < 0 || cfg.ReplayWindow < 0 || cfg.ReplayCapacity < 0 {
		return nil, fmt.Errorf("twilio: %w: negative limit", ErrConfig)
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.ReplayWindow == 0 {
		cfg.ReplayWindow = DefaultReplayWindow
	}
	if cfg.ReplayCapacity == 0 {
		cfg.ReplayCapacity = DefaultReplayCapacity
	}
	h := &Handler{cfg: cfg, recv: r, now: cfg.Now, log: cfg.Logger,
		replay: newReplayCache(cfg.ReplayWindow, cfg.ReplayCapacity)}
	if h.now == nil {
		h.now = time.Now
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h, nil
}

// ServeHTTP handles one webhook request; see Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.fail(w, r, http.StatusMethodNotAllowed, "method not allowed", nil)
		return
	}
	body, code, err := webhook.ReadBody(w, r, h.cfg.MaxBodyBytes)
	if err != nil {
		h.fail(w, r, code, http.StatusText(code), err)
		return
	}
	sig := r.Header.Get(SignatureHeader)
	if sig == "" {
		h.fail(w, r, http.StatusForbidden, "missing signature", ErrBadSignature)
		return
	}
	publicURL := h.publicURL(r)
	var params url.Values
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/json" {
		if err := VerifySignatureWithBody(h.cfg.AuthToken, publicURL, body, sig); err != nil {
			h.fail(w, r, http.StatusForbidden, "bad signature", err)
			return
		}
		params, err = jsonParams(body)
	} else {
		params, err = url.ParseQuery(string(body))
		if err == nil {
			if verr := VerifySignature(h.cfg.AuthToken, publicURL, params, sig); verr != nil {
				h.fail(w, r, http.StatusForbidden, "bad signature", verr)
				return
			}
		}
	}
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, "malformed body", err)
		return
	}
	now := h.now()
	token := r.Header.Get(IdempotencyHeader)
	if token != "" && h.replay.contains(token, now) {
		writeTwiML(w)
		return
	}
	ev, err := parseEvent(params, now)
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, "malformed webhook", err)
		return
	}
	if ev.inbound != nil {
		err = h.recv.Receive(r.Context(), *ev.inbound)
	} else {
		err = h.recv.ApplyStatus(r.Context(), *ev.status)
	}
	if err != nil {
		h.fail(w, r, webhook.Status(err), "not stored", err)
		return
	}
	if token != "" {
		h.replay.add(token, now)
	}
	writeTwiML(w)
}

func (h *Handler) publicURL(r *http.Request) string {
	if h.cfg.PublicURL != nil {
		return h.cfg.PublicURL(r)
	}
	target := r.RequestURI
	if target == "" || !strings.HasPrefix(target, "/") {
		target = r.URL.RequestURI()
	}
	return h.cfg.BaseURL + target
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, code int, msg string, err error) {
	level := slog.LevelWarn
	if code >= 500 {
		level = slog.LevelError
	}
	h.log.LogAttrs(r.Context(), level, "twilio webhook refused",
		slog.Int("status", code), slog.String("reason", msg), slog.Any("error", err))
	http.Error(w, "twilio: "+msg, code)
}

func writeTwiML(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, emptyTwiML)
}

// jsonParams reads a flat JSON object of string, number or boolean values
// into parameters.
func jsonParams(body []byte) (url.Values, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("twilio: JSON body: %w", err)
	}
	v := make(url.Values, len(m))
	for k, raw := range m {
		var fs flexString
		if err := fs.UnmarshalJSON(raw); err != nil {
			var b bool
			if json.Unmarshal(raw, &b) != nil {
				return nil, fmt.Errorf("twilio: JSON body: field %q is not a string, number or boolean", k)
			}
			fs = flexString(strconv.FormatBool(b))
		}
		v.Set(k, string(fs))
	}
	return v, nil
}

// event is a parsed webhook: exactly one of inbound and status is set.
type event struct {
	inbound *channel.Inbound
	status  *channel.StatusUpdate
}

// errMalformed reports webhook parameters that make no message or status.
var errMalformed = errors.New("malformed webhook")

// parseEvent turns the parameters of a Twilio messaging webhook into an
// inbound message or a status update.
func parseEvent(p url.Values, now time.Time) (event, error) {
	sid := p.Get("MessageSid")
	if sid == "" {
		sid = p.Get("SmsSid")
	}
	if sid == "" {
		return event{}, fmt.Errorf("twilio: %w: no MessageSid", errMalformed)
	}
	raw := p.Get("MessageStatus")
	if raw == "" {
		raw = p.Get("SmsStatus")
	}
	if raw == "" {
		if p.Get("Body") == "" && p.Get("NumMedia") == "" {
			return event{}, fmt.Errorf("twilio: %w: neither a message nor a status", errMalformed)
		}
		raw = "received"
	}
	st, err := status.ParseTwilio(raw)
	switch {
	case errors.Is(err, status.ErrInbound):
		in, err := parseInbound(p, sid, now)
		if err != nil {
			return event{}, err
		}
		return event{inbound: &in}, nil
	case err != nil:
		return event{}, fmt.Errorf("twilio: %w: %w", errMalformed, err)
	}
	to, toWA := stripPrefix(p.Get("To"))
	_, fromWA := stripPrefix(p.Get("From"))
	kind := channel.SMS
	if toWA || fromWA {
		kind = channel.WhatsApp
	}
	u := channel.StatusUpdate{
		Kind:         kind,
		ProviderID:   sid,
		Recipient:    to,
		Status:       st,
		Raw:          raw,
		ErrorCode:    p.Get("ErrorCode"),
		ErrorMessage: p.Get("ErrorMessage"),
		At:           now,
	}
	return event{status: &u}, nil
}

func parseInbound(p url.Values, sid string, now time.Time) (channel.Inbound, error) {
	from, fromWA := stripPrefix(p.Get("From"))
	to, toWA := stripPrefix(p.Get("To"))
	if from == "" {
		return channel.Inbound{}, fmt.Errorf("twilio: %w: inbound message without From", errMalformed)
	}
	in := channel.Inbound{
		Kind:       channel.SMS,
		From:       from,
		Name:       p.Get("ProfileName"),
		To:         to,
		Text:       p.Get("Body"),
		ProviderID: sid,
		ReceivedAt: now,
	}
	if in.Text == "" {
		in.Text = p.Get("ButtonText")
	}
	if r := p.Get("OriginalRepliedMessageSid"); r != "" {
		in.InReplyTo = []string{r}
	}
	n := 0
	if s := p.Get("NumMedia"); s != "" {
		var err error
		n, err = strconv.Atoi(s)
		if err != nil || n < 0 || n > MaxMedia {
			return channel.Inbound{}, fmt.Errorf("twilio: %w: NumMedia %q", errMalformed, s)
		}
	}
	for i := range n {
		idx := strconv.Itoa(i)
		u := p.Get("MediaUrl" + idx)
		if u == "" {
			return channel.Inbound{}, fmt.Errorf("twilio: %w: NumMedia is %d but MediaUrl%d is missing", errMalformed, n, i)
		}
		in.Attachments = append(in.Attachments, channel.Attachment{URL: u, ContentType: p.Get("MediaContentType" + idx)})
	}
	switch {
	case fromWA || toWA:
		in.Kind = channel.WhatsApp
	case n > 0:
		in.Kind = channel.MMS
	}
	return in, nil
}

// stripPrefix removes a "whatsapp:" channel prefix and reports whether there
// was one.
func stripPrefix(addr string) (string, bool) {
	if len(addr) >= len(whatsappPrefix) && strings.EqualFold(addr[:len(whatsappPrefix)], whatsappPrefix) {
		return addr[len(whatsappPrefix):], true
	}
	return addr, false
}
