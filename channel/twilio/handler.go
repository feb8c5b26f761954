package twilio

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

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
	// DefaultReplayMaxBytes is the default memory bound of the replay cache:
	// 4 MiB, 26,214 tokens.
	DefaultReplayMaxBytes = 4 << 20
	// ReplayEntryBytes is the memory one remembered idempotency token takes
	// in the replay cache, at most, whatever the token's length: the cache
	// keeps the token's SHA-256 and the time it was handled, never the
	// token itself. The cache holds at most ReplayMaxBytes /
	// ReplayEntryBytes tokens.
	ReplayEntryBytes = 160
	// MaxMedia is the largest NumMedia an inbound webhook may declare.
	MaxMedia = 20
)

// emptyTwiML is the answer to a webhook: a TwiML document that does nothing.
const emptyTwiML = `<?xml version="1.0" encoding="UTF-8"?><Response></Response>`

// HandlerConfig configures a Handler. AccountSID, AuthToken and one of
// PublicURL or BaseURL are required.
type HandlerConfig struct {
	// AccountSID is the SID of the account whose webhooks the Handler takes
	// ("AC" and 32 hex digits). A webhook whose AccountSid is another one,
	// or missing, is refused with 400: a subaccount needs its own Handler,
	// with its own auth token.
	AccountSID string
	// AuthToken is the auth token of the account that signs the webhooks.
	AuthToken string
	// OldAuthTokens are further auth tokens whose signatures are accepted,
	// for a rotation: Twilio signs with the account's primary token, and
	// promoting the secondary token replaces it at once. Set AuthToken to
	// the new token and keep the old one here until the promotion is done
	// and the webhooks signed with it have arrived; then remove it.
	OldAuthTokens []string
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
	// ReplayMaxBytes bounds the memory of the idempotency tokens remembered
	// (ReplayEntryBytes each, whatever their length); when it is full, the
	// oldest are forgotten first. Zero means DefaultReplayMaxBytes; it must
	// hold at least one token.
	ReplayMaxBytes int64
	// Now is the clock for ReceivedAt, status times and the replay window;
	// nil means time.Now.
	Now func() time.Time
	// Logger receives a record for every refused or failed webhook, and for
	// every status update of an unknown message; nil discards them.
	Logger *slog.Logger
	// TracerProvider and MeterProvider receive the Handler's spans and
	// metrics (see the package doc). Default: the otel global providers,
	// no-ops until the host installs an SDK.
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
}

// Handler is the http.Handler for Twilio's messaging webhooks: incoming
// messages (SMS, MMS, WhatsApp) and status callbacks of outbound messages,
// on one URL or several. It verifies X-Twilio-Signature before anything else,
// checks the shape of every field it uses, then feeds the channel.Receiver
// and answers:
//
//	200 (empty TwiML)  stored, a duplicate (M5), a replayed idempotency token, or
//	                   a status update for a message no delivery has (channel.ErrUnknownMessage,
//	                   once the Receiver has waited for a send in flight): acknowledged and logged
//	400                malformed body, a field of the wrong shape (a SID that is not two letters
//	                   and 32 hex digits, an address that is not a number, a field repeated with
//	                   different values), an AccountSid other than AccountSID, or an item the
//	                   Receiver refused as invalid (channel.ErrInvalidMessage, channel.ErrPermanent)
//	403                missing or bad signature; the Receiver is not called
//	405                not a POST
//	408                body not received before the server's read deadline (http.Server.ReadTimeout)
//	413                body larger than MaxBodyBytes
//	500                the Receiver failed in a way a retry can fix (a store error)
//
// Why these codes: Twilio does not retry a webhook answered 4xx (it logs
// error 11200 in the Console's debugger, where the host sees the reason),
// retries a failed one only as the URL's connection overrides say (#rc and
// #rp, within 15 seconds) and then calls the Fallback URL. So 5xx is kept
// for what a retry or the fallback can store; input that can never be stored
// gets 400 with its reason; and a status for a message Parley never sent is
// acknowledged, since no retry would find that message, while the inbox
// reports it (inbox.EventUnknownStatus) and the Handler logs it.
//
// Twilio signs parameter names and values joined without separators, so a
// captured request can be re-split (a parameter's value moved into its
// neighbour's) without breaking the signature. The shape checks refuse such
// requests: MessageSid, SmsSid, SmsMessageSid and OriginalRepliedMessageSid
// must be SM or MM followed by 32 hex digits (and the first three equal),
// AccountSid must be AccountSID, From and To must be phone numbers or short
// codes (a status callback's From may be an alphanumeric sender ID),
// NumMedia a number up to MaxMedia, MediaUrlN an http(s) URL, MediaContentTypeN
// a media type and ErrorCode digits.
//
// Configure the webhooks at Twilio with method POST (HTTP GET webhooks are
// refused). A status callback carries no channel kind: the StatusUpdate says
// channel.WhatsApp for whatsapp: addresses and channel.SMS otherwise (MMS
// included); the inbox matches updates by ProviderID. A status callback
// whose URL has the ReferenceParam query parameter (the Sender adds
// msg.Reference there) gives it as StatusUpdate.Reference, so the inbox
// finds the delivery even when the send's answer was lost; the signature
// covers the URL, query included, so the reference is authenticated like
// the body. Inbound messages ignore it. Times (ReceivedAt, At)
// are the Handler's clock, as Twilio's messaging webhooks carry no timestamp.
//
// # Server timeouts
//
// Mount the Handler on an http.Server with timeouts: without them a client
// that trickles its body a byte at a time holds a handler, a goroutine and a
// connection for as long as it likes. Twilio waits 15 seconds at most for an
// answer, so ReadHeaderTimeout of a few seconds, ReadTimeout of about 10 s
// (the body of a webhook is small), WriteTimeout a little longer than the
// Receiver's slowest store write, and IdleTimeout for keep-alive
// connections suit it (examples/webhooks sets them all).
//
// It is safe for concurrent use.
type Handler struct {
	cfg    HandlerConfig
	tokens []string
	recv   channel.Receiver
	now    func() time.Time
	log    *slog.Logger
	replay *replayCache
	tel    *webhook.Telemetry
}

var _ http.Handler = (*Handler)(nil)

// NewHandler validates cfg and returns a Handler that feeds r. An invalid
// configuration gives an error matching ErrConfig.
func NewHandler(cfg HandlerConfig, r channel.Receiver) (*Handler, error) {
	if r == nil {
		return nil, fmt.Errorf("twilio: %w: nil Receiver", ErrConfig)
	}
	if !accountSIDRE.MatchString(cfg.AccountSID) {
		return nil, fmt.Errorf("twilio: %w: AccountSID %q is not \"AC\" and 32 hex digits", ErrConfig, cfg.AccountSID)
	}
	if cfg.AuthToken == "" || slices.Contains(cfg.OldAuthTokens, "") {
		return nil, fmt.Errorf("twilio: %w: AuthToken is required, and OldAuthTokens cannot be empty", ErrConfig)
	}
	if cfg.PublicURL == nil {
		u, err := url.Parse(cfg.BaseURL)
		if cfg.BaseURL == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
			strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("twilio: %w: BaseURL %q must be an http(s) origin with no path, or set PublicURL", ErrConfig, cfg.BaseURL)
		}
		cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	}
	if cfg.MaxBodyBytes < 0 || cfg.ReplayWindow < 0 || cfg.ReplayMaxBytes < 0 {
		return nil, fmt.Errorf("twilio: %w: negative limit", ErrConfig)
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.ReplayWindow == 0 {
		cfg.ReplayWindow = DefaultReplayWindow
	}
	if cfg.ReplayMaxBytes == 0 {
		cfg.ReplayMaxBytes = DefaultReplayMaxBytes
	}
	if cfg.ReplayMaxBytes < ReplayEntryBytes {
		return nil, fmt.Errorf("twilio: %w: ReplayMaxBytes %d holds no token (%d bytes each)", ErrConfig, cfg.ReplayMaxBytes, ReplayEntryBytes)
	}
	tokens := append([]string{cfg.AuthToken}, cfg.OldAuthTokens...)
	cfg.OldAuthTokens = slices.Clone(cfg.OldAuthTokens)
	h := &Handler{cfg: cfg, tokens: tokens, recv: r, now: cfg.Now, log: cfg.Logger,
		replay: newReplayCache(cfg.ReplayWindow, int(min(cfg.ReplayMaxBytes/ReplayEntryBytes, math.MaxInt32)))}
	if h.now == nil {
		h.now = time.Now
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.tel = webhook.NewTelemetry("twilio", scope, cfg.TracerProvider, cfg.MeterProvider)
	return h, nil
}

// scope is the instrumentation scope of the package's spans and metrics.
const scope = "github.com/parleyhq/parley/channel/twilio"

// ServeHTTP handles one webhook request; see Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.tel.Serve(w, r, h.serve) }

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) {
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
		if err := h.verify(func(token string) error { return VerifySignatureWithBody(token, publicURL, body, sig) }); err != nil {
			h.fail(w, r, http.StatusForbidden, "bad signature", err)
			return
		}
		params, err = jsonParams(body)
	} else {
		params, err = url.ParseQuery(string(body))
		if err == nil {
			if verr := h.verify(func(token string) error { return VerifySignature(token, publicURL, params, sig) }); verr != nil {
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
		webhook.Note(w, webhook.Stored)
		writeTwiML(w)
		return
	}
	if err := checkFields(params, h.cfg.AccountSID); err != nil {
		h.fail(w, r, http.StatusBadRequest, err.Error(), err)
		return
	}
	ev, err := parseEvent(params, now)
	if err == nil && ev.status != nil {
		ev.status.Reference, err = urlReference(publicURL)
	}
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, err.Error(), err)
		return
	}
	if ev.inbound != nil {
		err = h.recv.Receive(r.Context(), *ev.inbound)
	} else {
		err = h.recv.ApplyStatus(r.Context(), *ev.status)
	}
	o := webhook.Classify(err)
	webhook.Note(w, o)
	switch o {
	case webhook.Unknown:
		h.log.LogAttrs(r.Context(), slog.LevelWarn, "twilio: status of an unknown message acknowledged",
			slog.String("sid", ev.status.ProviderID), slog.String("status", ev.status.Raw), slog.Any("error", err))
	case webhook.Invalid:
		h.fail(w, r, o.Code(http.StatusBadRequest), "refused as invalid: "+err.Error(), err)
		return
	case webhook.Retry:
		h.fail(w, r, o.Code(http.StatusBadRequest), "not stored", err)
		return
	}
	if token != "" {
		h.replay.add(token, now)
	}
	writeTwiML(w)
}

// verify returns nil when check accepts one of the Handler's auth tokens,
// else the error it gave for the current one. Every token is tried, so the
// time taken does not tell which one matched.
func (h *Handler) verify(check func(token string) error) error {
	var first error
	ok := false
	for i, t := range h.tokens {
		err := check(t)
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
	h.log.LogAttrs(r.Context(), level, "twilio: webhook refused",
		slog.Int("status", code), slog.String("reason", msg), slog.Any("error", err))
	if !strings.HasPrefix(msg, "twilio: ") {
		msg = "twilio: " + msg
	}
	http.Error(w, msg, code)
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

// errMalformed reports webhook parameters that make no message or status,
// or a field of the wrong shape.
var errMalformed = errors.New("malformed webhook")

// Shapes of the fields the Handler trusts. SIDs are two letters and 32 hex
// digits, as in Twilio's API definitions.
var (
	accountSIDRE = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)
	messageSIDRE = regexp.MustCompile(`^(SM|MM)[0-9a-fA-F]{32}$`)
	// a phone number in E.164, or a short code
	phoneRE = regexp.MustCompile(`^\+?[0-9]{3,15}$`)
	// an alphanumeric sender ID (a status callback's From)
	senderIDRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 ]{0,10}$`)
	errorCodeRE = regexp.MustCompile(`^[0-9]{1,9}$`)
)

// trustedFields are the parameters the Handler reads: each may carry one
// value only (repeated with the same value is harmless).
var trustedFields = []string{"AccountSid", "MessageSid", "SmsSid", "SmsMessageSid", "MessageStatus", "SmsStatus",
	"From", "To", "Body", "ProfileName", "ButtonText", "OriginalRepliedMessageSid", "NumMedia", "ErrorCode", "ErrorMessage"}

// checkFields checks the shape of every field parseEvent trusts, so that a
// signed request whose names and values were re-split (Twilio signs them
// joined without separators) is refused rather than stored as something
// else. It returns an error matching errMalformed naming the first field
// that does not fit.
func checkFields(p url.Values, account string) error {
	bad := func(field, v, want string) error {
		return fmt.Errorf("twilio: %w: %s %.60q is not %s", errMalformed, field, v, want)
	}
	single := func(k string) error {
		if vs := p[k]; len(vs) > 1 && len(slices.Compact(slices.Sorted(slices.Values(vs)))) > 1 {
			return fmt.Errorf("twilio: %w: %s given %d different values", errMalformed, k, len(vs))
		}
		return nil
	}
	for _, k := range trustedFields {
		if err := single(k); err != nil {
			return err
		}
	}
	n := 0
	if s := p.Get("NumMedia"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 0 || n > MaxMedia {
			return bad("NumMedia", s, fmt.Sprintf("a number from 0 to %d", MaxMedia))
		}
	}
	for i := range n {
		for _, k := range []string{"MediaUrl", "MediaContentType"} {
			if err := single(k + strconv.Itoa(i)); err != nil {
				return err
			}
		}
	}
	switch a := p.Get("AccountSid"); {
	case a == "":
		return fmt.Errorf("twilio: %w: no AccountSid", errMalformed)
	case !accountSIDRE.MatchString(a):
		return bad("AccountSid", a, `"AC" and 32 hex digits`)
	case !strings.EqualFold(a, account):
		return fmt.Errorf("twilio: %w: AccountSid %s is not the configured account", errMalformed, a)
	}
	sid := ""
	for _, k := range []string{"MessageSid", "SmsSid", "SmsMessageSid", "OriginalRepliedMessageSid"} {
		v := p.Get(k)
		if v == "" {
			continue
		}
		if !messageSIDRE.MatchString(v) {
			return bad(k, v, `"SM" or "MM" and 32 hex digits`)
		}
		if k == "OriginalRepliedMessageSid" {
			continue
		}
		if sid != "" && v != sid {
			return fmt.Errorf("twilio: %w: %s %s differs from %s", errMalformed, k, v, sid)
		}
		sid = v
	}
	ms, ss := p.Get("MessageStatus"), p.Get("SmsStatus")
	if ms != "" && ss != "" && ms != ss {
		return fmt.Errorf("twilio: %w: MessageStatus %.30q and SmsStatus %.30q differ", errMalformed, ms, ss)
	}
	raw := cmp.Or(ms, ss)
	inbound := raw == "" || errors.Is(parseStatusErr(raw), status.ErrInbound)
	for _, k := range []string{"From", "To"} {
		v, _ := stripPrefix(p.Get(k))
		switch {
		case v == "":
		case phoneRE.MatchString(v):
		case k == "From" && !inbound && senderIDRE.MatchString(v):
		default:
			return bad(k, p.Get(k), "a phone number")
		}
	}
	for i := range n {
		idx := strconv.Itoa(i)
		if v := p.Get("MediaUrl" + idx); v != "" {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.ContainsAny(v, " \t\r\n") {
				return bad("MediaUrl"+idx, v, "an http(s) URL")
			}
		}
		if v := p.Get("MediaContentType" + idx); v != "" {
			if _, _, err := mime.ParseMediaType(v); err != nil {
				return bad("MediaContentType"+idx, v, "a media type")
			}
		}
	}
	if v := p.Get("ErrorCode"); v != "" && !errorCodeRE.MatchString(v) {
		return bad("ErrorCode", v, "a number")
	}
	return nil
}

// urlReference returns the ReferenceParam query parameter of the signed URL
// of a status callback, the msg.Reference the Sender put there: empty when
// the URL has none, or one longer than MaxReferenceBytes (the Sender never
// adds such a one). A parameter repeated with different values is refused
// (errMalformed): no Sender URL has two.
func urlReference(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", nil
	}
	// ParseQuery keeps the parameters it could parse; a malformed
	// neighbour does not hide the reference.
	q, _ := url.ParseQuery(u.RawQuery)
	vs := q[ReferenceParam]
	if len(vs) == 0 {
		return "", nil
	}
	if len(slices.Compact(slices.Sorted(slices.Values(vs)))) > 1 {
		return "", fmt.Errorf("twilio: %w: %s given %d different values in the URL", errMalformed, ReferenceParam, len(vs))
	}
	if len(vs[0]) > MaxReferenceBytes {
		return "", nil
	}
	return vs[0], nil
}

func parseStatusErr(raw string) error {
	_, err := status.ParseTwilio(raw)
	return err
}

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
		// Twilio's status callbacks carry no event time: At stays zero
		// and the inbox keeps the arrival time, marked as such (S3), so
		// a retried callback is recognised as the same event
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
