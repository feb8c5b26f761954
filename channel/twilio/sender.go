package twilio

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/status"
)

// DefaultBaseURL is the origin of Twilio's REST API.
const DefaultBaseURL = "https://api.twilio.com"

// The window in which Twilio accepts a scheduled message: SendAt must be at
// least MinScheduleLead and at most MaxScheduleLead after the request.
const (
	// MinScheduleLead is the shortest lead Twilio accepts: 15 minutes.
	MinScheduleLead = 15 * time.Minute
	// MaxScheduleLead is the longest lead Twilio accepts: 35 days.
	MaxScheduleLead = 35 * 24 * time.Hour
)

// Metadata keys of channel.Message that the Sender reads.
const (
	// MetaStatusCallback overrides Config.StatusCallback for one message.
	MetaStatusCallback = "twilio.StatusCallback"
	// MetaMessagingServiceSID overrides Config.MessagingServiceSID for one
	// message.
	MetaMessagingServiceSID = "twilio.MessagingServiceSid"
)

// ReferenceParam is the query parameter the Sender adds to a message's
// status callback URL to carry msg.Reference, and from which the Handler
// sets StatusUpdate.Reference. Twilio's Messages resource has no field for
// the caller's reference, so the callback URL carries it: Twilio signs that
// URL, query included, so the Handler's signature check authenticates it.
const ReferenceParam = "parley_ref"

// MaxReferenceBytes is the longest msg.Reference the Sender adds to a status
// callback URL; a longer one is left out (the message is still sent, and its
// callbacks carry no reference).
const MaxReferenceBytes = 256

// whatsappPrefix is the channel prefix of WhatsApp addresses at Twilio.
const whatsappPrefix = "whatsapp:"

// maxResponseBytes bounds how much of a REST response is read.
const maxResponseBytes = 1 << 20

// Config configures a Sender. AccountSID and either AuthToken or an API key
// (APIKeySID and APIKeySecret) are required; everything else is optional.
type Config struct {
	// AccountSID is the Twilio account ("AC…"); it names the account in
	// every REST path.
	AccountSID string
	// AuthToken is the account's auth token, used for HTTP basic auth with
	// the AccountSID when no API key is set.
	AuthToken string
	// APIKeySID and APIKeySecret, when set, authenticate instead of the auth
	// token ("SK…" and its secret).
	APIKeySID    string
	APIKeySecret string
	// From is the default sender: a phone number in E.164, an alphanumeric
	// sender ID, or a WhatsApp number (with or without "whatsapp:"). A
	// message's From identity overrides it.
	From string
	// MessagingServiceSID ("MG…") sends through a Messaging Service. It is
	// required for provider-side scheduling (SendAt).
	MessagingServiceSID string
	// StatusCallback is the URL Twilio posts status callbacks to (the
	// Handler's public URL). Empty leaves it to the number or service.
	StatusCallback string
	// BaseURL is the REST API origin; empty means DefaultBaseURL. Tests point
	// it at an httptest server.
	BaseURL string
	// HTTPClient sends the requests; nil means a client with a 30 s timeout.
	HTTPClient *http.Client
	// Now is the clock used for scheduling checks and receipts; nil means
	// time.Now.
	Now func() time.Time
}

// Sender sends SMS, MMS and WhatsApp messages through Twilio's Messages
// resource and cancels messages Twilio holds for later. It implements
// channel.Sender and channel.Canceler and is safe for concurrent use.
type Sender struct {
	cfg      Config
	base     string
	user     string
	password string
	client   *http.Client
	now      func() time.Time
}

var (
	_ channel.Sender   = (*Sender)(nil)
	_ channel.Canceler = (*Sender)(nil)
)

// New validates cfg and returns a Sender. An invalid configuration gives an
// error matching ErrConfig.
func New(cfg Config) (*Sender, error) {
	if !strings.HasPrefix(cfg.AccountSID, "AC") || len(cfg.AccountSID) < 3 {
		return nil, fmt.Errorf("twilio: %w: AccountSID %q does not start with AC", ErrConfig, cfg.AccountSID)
	}
	s := &Sender{cfg: cfg, client: cfg.HTTPClient, now: cfg.Now}
	switch {
	case cfg.APIKeySID != "" || cfg.APIKeySecret != "":
		if cfg.APIKeySID == "" || cfg.APIKeySecret == "" {
			return nil, fmt.Errorf("twilio: %w: APIKeySID and APIKeySecret go together", ErrConfig)
		}
		s.user, s.password = cfg.APIKeySID, cfg.APIKeySecret
	case cfg.AuthToken != "":
		s.user, s.password = cfg.AccountSID, cfg.AuthToken
	default:
		return nil, fmt.Errorf("twilio: %w: AuthToken or an API key is required", ErrConfig)
	}
	if cfg.MessagingServiceSID != "" && !isServiceSID(cfg.MessagingServiceSID) {
		return nil, fmt.Errorf("twilio: %w: MessagingServiceSID %q does not start with MG", ErrConfig, cfg.MessagingServiceSID)
	}
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("twilio: %w: BaseURL %q is not an http(s) URL", ErrConfig, base)
	}
	s.base = strings.TrimRight(base, "/")
	if cfg.StatusCallback != "" {
		if u, err := url.Parse(cfg.StatusCallback); err != nil || !u.IsAbs() {
			return nil, fmt.Errorf("twilio: %w: StatusCallback %q is not an absolute URL", ErrConfig, cfg.StatusCallback)
		} else if u.Query().Has(ReferenceParam) {
			return nil, fmt.Errorf("twilio: %w: StatusCallback %q already has a %s parameter", ErrConfig, cfg.StatusCallback, ReferenceParam)
		}
	}
	if s.client == nil {
		s.client = &http.Client{Timeout: 30 * time.Second}
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

func isServiceSID(s string) bool { return len(s) == 34 && strings.HasPrefix(s, "MG") }

// Send creates a Message resource at Twilio for msg and returns its SID as
// the receipt's ProviderID.
//
// msg.Kind selects the channel: channel.SMS (text only), channel.MMS (media
// URLs from the attachments' URL fields; Twilio fetches them, so attachments
// must have a URL) or channel.WhatsApp (To and From get the "whatsapp:"
// prefix). A msg.Template with a ProviderID (a Content SID, "HX…") is sent as
// ContentSid with its Params as ContentVariables {"1": …, "2": …}, which is
// how WhatsApp messages go out outside the 24-hour window (C10); otherwise
// msg.Text is the Body.
//
// The sender is msg.From.Address when set (an address that is a Messaging
// Service SID is sent as MessagingServiceSid), else Config.From; the
// Messaging Service is msg.Metadata[MetaMessagingServiceSID], else
// Config.MessagingServiceSID. A non-zero msg.SendAt schedules the message at
// Twilio (ScheduleType=fixed), which needs a Messaging Service and a SendAt
// between MinScheduleLead and MaxScheduleLead from now (ErrSchedule).
//
// Errors: a malformed message matches channel.ErrInvalidMessage and
// channel.ErrPermanent; a Twilio error response is an *Error; a network
// failure matches channel.ErrTransient; the end of ctx matches ctx.Err().
//
// Twilio's Messages resource takes no idempotency key nor any field for the
// caller's reference, so msg.Reference travels in the status callback URL:
// when a StatusCallback is used (Config.StatusCallback, or the
// msg.Metadata[MetaStatusCallback] override) and msg.Reference is not empty
// and at most MaxReferenceBytes long, the URL Twilio calls gets the query
// parameter ReferenceParam carrying it (query-escaped, after the URL's own
// query parameters, before its fragment, so the connection overrides
// "#rc=…&rp=…" stay last and unchanged). The Handler reads it back into
// StatusUpdate.Reference, so that the inbox finds the delivery of a status
// callback even when the send's answer was lost (S4). A StatusCallback that
// already has a ReferenceParam parameter is refused (ErrConfig in New,
// channel.ErrInvalidMessage for the override).
func (s *Sender) Send(ctx context.Context, msg *channel.Message) (channel.Receipt, error) {
	if err := ctx.Err(); err != nil {
		return channel.Receipt{}, err
	}
	form, err := s.form(msg)
	if err != nil {
		return channel.Receipt{}, err
	}
	path := "/2010-04-01/Accounts/" + url.PathEscape(s.cfg.AccountSID) + "/Messages.json"
	res, err := s.post(ctx, "send", path, form)
	if err != nil {
		return channel.Receipt{}, err
	}
	if res.Sid == "" {
		return channel.Receipt{}, fmt.Errorf("twilio: send: %w: response has no message sid", channel.ErrPermanent)
	}
	rc := channel.Receipt{ProviderID: res.Sid, At: s.now()}
	if st, err := status.ParseTwilio(res.Status); err == nil {
		rc.Status = st
	}
	if t, err := time.Parse(time.RFC1123Z, res.DateCreated); err == nil {
		rc.At = t
	}
	if n, err := strconv.Atoi(string(res.NumSegments)); err == nil && n > 0 {
		rc.Segments = n
	}
	if m, ok := parseMicros(string(res.Price)); ok && m != 0 {
		rc.Cost = channel.Cost{Micros: m, Currency: strings.ToUpper(string(res.PriceUnit))}
	}
	return rc, nil
}

// Cancel cancels a message Twilio holds for later (Status=canceled on the
// Message resource), the provider side of C8. A message that is already sent
// or unknown to Twilio gives an *Error matching channel.ErrPermanent (and
// channel.ErrUnknownMessage for an unknown SID).
func (s *Sender) Cancel(ctx context.Context, providerID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if providerID == "" || strings.ContainsAny(providerID, "/?#") {
		return fmt.Errorf("twilio: cancel: %w: %w: message SID %q", channel.ErrPermanent, channel.ErrInvalidMessage, providerID)
	}
	path := "/2010-04-01/Accounts/" + url.PathEscape(s.cfg.AccountSID) + "/Messages/" + url.PathEscape(providerID) + ".json"
	res, err := s.post(ctx, "cancel", path, url.Values{"Status": {"canceled"}})
	if err != nil {
		var te *Error
		if errors.As(err, &te) && (te.Status == http.StatusNotFound || te.Code == CodeNotFound) {
			return fmt.Errorf("twilio: cancel %s: %w: %w", providerID, channel.ErrUnknownMessage, err)
		}
		return err
	}
	if st := strings.ToLower(res.Status); st != "canceled" && st != "cancelled" {
		return fmt.Errorf("twilio: cancel %s: %w: status is %q", providerID, channel.ErrPermanent, res.Status)
	}
	return nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("twilio: %w: %w: %s", channel.ErrInvalidMessage, channel.ErrPermanent, fmt.Sprintf(format, args...))
}

// form builds the parameters of the Messages create request.
func (s *Sender) form(msg *channel.Message) (url.Values, error) {
	if msg == nil {
		return nil, invalid("nil message")
	}
	to := strings.TrimSpace(msg.To)
	if to == "" {
		return nil, invalid("no recipient")
	}
	f := url.Values{}
	from := msg.From.Address
	service := s.cfg.MessagingServiceSID
	if isServiceSID(from) {
		service, from = from, ""
	} else if from == "" {
		from = s.cfg.From
	}
	if v := msg.Metadata[MetaMessagingServiceSID]; v != "" {
		if !isServiceSID(v) {
			return nil, invalid("messaging service SID %q does not start with MG", v)
		}
		service = v
	}
	switch msg.Kind {
	case channel.SMS:
		if len(msg.Attachments) > 0 {
			return nil, invalid("an SMS carries no attachments; send it as MMS")
		}
	case channel.MMS:
	case channel.WhatsApp:
		to = withPrefix(to)
		if from != "" {
			from = withPrefix(from)
		}
	default:
		return nil, invalid("kind %s is not sent through Twilio", msg.Kind)
	}
	if from == "" && service == "" {
		return nil, invalid("no sender: set From or MessagingServiceSID")
	}
	f.Set("To", to)
	if from != "" {
		f.Set("From", from)
	}
	if service != "" {
		f.Set("MessagingServiceSid", service)
	}
	if t := msg.Template; t != nil {
		sid := t.ProviderID
		if sid == "" && strings.HasPrefix(t.Name, "HX") {
			sid = t.Name
		}
		if !strings.HasPrefix(sid, "HX") {
			return nil, invalid("template %q has no Content SID (HX…) as ProviderID", t.Name)
		}
		f.Set("ContentSid", sid)
		if len(t.Params) > 0 {
			vars := make(map[string]string, len(t.Params))
			for i, p := range t.Params {
				vars[strconv.Itoa(i+1)] = p
			}
			b, err := json.Marshal(vars)
			if err != nil {
				return nil, invalid("template parameters: %v", err)
			}
			f.Set("ContentVariables", string(b))
		}
	} else if msg.Text != "" {
		f.Set("Body", msg.Text)
	}
	for i, a := range msg.Attachments {
		if a.URL == "" {
			return nil, invalid("attachment %d (%q) has no URL; Twilio fetches media from URLs", i, a.Name)
		}
		u, err := url.Parse(a.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, invalid("attachment %d URL %q is not an http(s) URL", i, a.URL)
		}
		f.Add("MediaUrl", a.URL)
	}
	if msg.Template == nil && strings.TrimSpace(msg.Text) == "" && len(msg.Attachments) == 0 {
		return nil, invalid("no body, media or template")
	}
	cb := s.cfg.StatusCallback
	if v := msg.Metadata[MetaStatusCallback]; v != "" {
		if u, err := url.Parse(v); err != nil || !u.IsAbs() {
			return nil, invalid("status callback %q is not an absolute URL", v)
		} else if u.Query().Has(ReferenceParam) {
			return nil, invalid("status callback %q already has a %s parameter", v, ReferenceParam)
		}
		cb = v
	}
	if cb != "" {
		f.Set("StatusCallback", withReference(cb, msg.Reference))
	}
	if !msg.SendAt.IsZero() {
		if service == "" {
			return nil, fmt.Errorf("twilio: %w: %w: %w: scheduling needs a Messaging Service", ErrSchedule, channel.ErrInvalidMessage, channel.ErrPermanent)
		}
		lead := msg.SendAt.Sub(s.now())
		if lead < MinScheduleLead || lead > MaxScheduleLead {
			return nil, fmt.Errorf("twilio: %w: %w: %w: SendAt %s is %s from now, outside [%s, %s]",
				ErrSchedule, channel.ErrInvalidMessage, channel.ErrPermanent,
				msg.SendAt.UTC().Format(time.RFC3339), lead.Round(time.Second), MinScheduleLead, MaxScheduleLead)
		}
		f.Set("ScheduleType", "fixed")
		f.Set("SendAt", msg.SendAt.UTC().Format(time.RFC3339))
	}
	return f, nil
}

// withReference returns the status callback URL cb with the query parameter
// ReferenceParam=ref added after its own query and before its fragment, the
// rest of cb left byte for byte as it is. An empty ref, or one longer than
// MaxReferenceBytes, leaves cb unchanged.
func withReference(cb, ref string) string {
	if ref == "" || len(ref) > MaxReferenceBytes {
		return cb
	}
	base, frag, hasFrag := strings.Cut(cb, "#")
	sep := "?"
	switch {
	case strings.HasSuffix(base, "?") || strings.HasSuffix(base, "&"):
		sep = ""
	case strings.Contains(base, "?"):
		sep = "&"
	}
	out := base + sep + ReferenceParam + "=" + url.QueryEscape(ref)
	if hasFrag {
		out += "#" + frag
	}
	return out
}

func withPrefix(addr string) string {
	if strings.HasPrefix(strings.ToLower(addr), whatsappPrefix) {
		return addr
	}
	return whatsappPrefix + addr
}

// resource is the part of a Twilio Message resource the adapter reads.
type resource struct {
	Sid         string     `json:"sid"`
	Status      string     `json:"status"`
	DateCreated string     `json:"date_created"`
	NumSegments flexString `json:"num_segments"`
	Price       flexString `json:"price"`
	PriceUnit   flexString `json:"price_unit"`
}

// errorDoc is Twilio's error response body.
type errorDoc struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

// flexString decodes a JSON string, number or null into a string.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*f = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*f = flexString(n)
	}
	return nil
}

func (s *Sender) post(ctx context.Context, op, path string, form url.Values) (resource, error) {
	var res resource
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return res, fmt.Errorf("twilio: %s: %w: %v", op, channel.ErrPermanent, err)
	}
	req.SetBasicAuth(s.user, s.password)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "parley-twilio/1")
	resp, err := s.client.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return res, fmt.Errorf("twilio: %s: %w", op, ctxErr)
		}
		return res, fmt.Errorf("twilio: %s: %w: %w", op, channel.ErrTransient, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return res, fmt.Errorf("twilio: %s: %w", op, ctxErr)
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			// Twilio accepted the request; retrying could send twice.
			return res, fmt.Errorf("twilio: %s: %w: reading accepted response: %v", op, channel.ErrPermanent, err)
		}
		return res, fmt.Errorf("twilio: %s: %w: %w", op, channel.ErrTransient, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return res, parseError(resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return res, fmt.Errorf("twilio: %s: %w: decoding response: %v", op, channel.ErrPermanent, err)
	}
	return res, nil
}

func parseError(code int, body []byte) *Error {
	e := &Error{Status: code}
	var doc errorDoc
	if err := json.Unmarshal(body, &doc); err == nil && (doc.Code != 0 || doc.Message != "") {
		e.Code, e.Message, e.MoreInfo = doc.Code, doc.Message, doc.MoreInfo
		return e
	}
	msg := strings.TrimSpace(string(body))
	if len(msg) > 200 {
		msg = msg[:200]
	}
	if msg == "" {
		msg = http.StatusText(code)
	}
	e.Message = msg
	return e
}

// parseMicros parses a decimal amount such as "-0.00750" into the absolute
// number of millionths; digits past the sixth decimal are rounded half up.
func parseMicros(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimLeft(s, "+-")
	if s == "" {
		return 0, false
	}
	intPart, frac, _ := strings.Cut(s, ".")
	if intPart == "" && frac == "" {
		return 0, false
	}
	var n int64
	for _, c := range []byte(intPart) {
		if c < '0' || c > '9' || n > (1<<62)/10_000_000 {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	n *= 1_000_000
	scale := int64(100_000)
	round := false
	for i, c := range []byte(frac) {
		if c < '0' || c > '9' {
			return 0, false
		}
		switch {
		case i < 6:
			n += int64(c-'0') * scale
			scale /= 10
		case i == 6:
			round = c >= '5'
		}
	}
	if round {
		n++
	}
	return n, true
}
