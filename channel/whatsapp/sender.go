package whatsapp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/status"
)

// DefaultBaseURL is the Graph API host the Sender talks to by default.
const DefaultBaseURL = "https://graph.facebook.com"

// DefaultGraphVersion is the Graph API version used when Config names none.
const DefaultGraphVersion = "v23.0"

// maxResponseBytes bounds how much of a JSON response the Sender reads.
const maxResponseBytes = 1 << 20

// maxCallbackData is the documented limit of biz_opaque_callback_data.
const maxCallbackData = 512

var graphVersionRE = regexp.MustCompile(`^v[0-9]+\.[0-9]+$`)

// Config configures a Sender. AccessToken and PhoneNumberID are required;
// the zero value of every other field means its default.
type Config struct {
	// AccessToken is the bearer token (a system user token) with the
	// whatsapp_business_messaging permission.
	AccessToken string
	// PhoneNumberID is the ID of the business phone number messages go out
	// from, used when a message's From.Address is empty. A sender identity
	// (channel.Identity.Address) of this adapter is a phone number ID.
	PhoneNumberID string
	// GraphVersion is the Graph API version ("v23.0"). Default:
	// DefaultGraphVersion.
	GraphVersion string
	// BaseURL is the Graph API base URL. Default: DefaultBaseURL; tests point
	// it at an httptest server.
	BaseURL string
	// HTTPClient sends the requests. Default: a client with a 30 s timeout.
	HTTPClient *http.Client
	// Now is the clock of receipts. Default: time.Now.
	Now func() time.Time
	// PreviewURL asks WhatsApp to render a preview of the first URL in text
	// messages.
	PreviewURL bool
	// MaxMediaBytes bounds the size of media that FetchMedia downloads.
	// Default: channel.DefaultWhatsAppMaxBytes (16 MiB).
	MaxMediaBytes int64
	// Capabilities, when not nil, are what the Sender reports as a
	// channel.CapabilityReporter. Default: channel.DefaultCapabilities of
	// channel.WhatsApp.
	Capabilities *channel.Capabilities
}

// Sender sends messages through the WhatsApp Cloud API: free text inside
// the 24-hour service window, approved templates outside it, and media
// (C10). It implements channel.Sender and channel.CapabilityReporter.
type Sender struct {
	token   string
	phoneID string
	base    string // base URL with the version, no trailing slash
	client  *http.Client
	now     func() time.Time
	preview bool
	maxMed  int64
	caps    channel.Capabilities
}

var (
	_ channel.Sender             = (*Sender)(nil)
	_ channel.CapabilityReporter = (*Sender)(nil)
)

// New validates cfg and returns a Sender. An invalid cfg gives an error
// matching ErrConfig.
func New(cfg Config) (*Sender, error) {
	if strings.TrimSpace(cfg.AccessToken) == "" {
		return nil, fmt.Errorf("whatsapp: %w: AccessToken is required", ErrConfig)
	}
	if !validID(cfg.PhoneNumberID) {
		return nil, fmt.Errorf("whatsapp: %w: PhoneNumberID %q is not a phone number ID", ErrConfig, cfg.PhoneNumberID)
	}
	ver := cfg.GraphVersion
	if ver == "" {
		ver = DefaultGraphVersion
	}
	if !graphVersionRE.MatchString(ver) {
		return nil, fmt.Errorf("whatsapp: %w: GraphVersion %q is not of the form v23.0", ErrConfig, ver)
	}
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("whatsapp: %w: BaseURL %q is not an absolute http(s) URL", ErrConfig, base)
	}
	if cfg.MaxMediaBytes < 0 {
		return nil, fmt.Errorf("whatsapp: %w: MaxMediaBytes is negative", ErrConfig)
	}
	s := &Sender{
		token:   cfg.AccessToken,
		phoneID: cfg.PhoneNumberID,
		base:    strings.TrimRight(base, "/") + "/" + ver,
		client:  cfg.HTTPClient,
		now:     cfg.Now,
		preview: cfg.PreviewURL,
		maxMed:  cfg.MaxMediaBytes,
	}
	if s.client == nil {
		s.client = &http.Client{Timeout: 30 * time.Second}
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.maxMed == 0 {
		s.maxMed = channel.DefaultWhatsAppMaxBytes
	}
	if cfg.Capabilities != nil {
		s.caps = *cfg.Capabilities
		s.caps.Attachments.Types = append([]string(nil), cfg.Capabilities.Attachments.Types...)
	} else {
		s.caps = channel.DefaultCapabilities(channel.WhatsApp)
	}
	return s, nil
}

// validID reports whether id can be a Graph API object ID: digits only.
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return true
}

// Capabilities implements channel.CapabilityReporter.
func (s *Sender) Capabilities() channel.Capabilities {
	c := s.caps
	c.Attachments.Types = append([]string(nil), s.caps.Attachments.Types...)
	return c
}

// The JSON body of POST /{phone-number-id}/messages.
type sendRequest struct {
	MessagingProduct string        `json:"messaging_product"`
	RecipientType    string        `json:"recipient_type"`
	To               string        `json:"to"`
	Type             string        `json:"type"`
	Context          *sendContext  `json:"context,omitempty"`
	Text             *sendText     `json:"text,omitempty"`
	Template         *sendTemplate `json:"template,omitempty"`
	Image            *sendMedia    `json:"image,omitempty"`
	Video            *sendMedia    `json:"video,omitempty"`
	Audio            *sendMedia    `json:"audio,omitempty"`
	Document         *sendMedia    `json:"document,omitempty"`
	Sticker          *sendMedia    `json:"sticker,omitempty"`
	CallbackData     string        `json:"biz_opaque_callback_data,omitempty"`
}

type sendContext struct {
	MessageID string `json:"message_id"`
}

type sendText struct {
	Body       string `json:"body"`
	PreviewURL bool   `json:"preview_url,omitempty"`
}

type sendTemplate struct {
	Name       string              `json:"name"`
	Language   sendLanguage        `json:"language"`
	Components []templateComponent `json:"components,omitempty"`
}

type sendLanguage struct {
	Code string `json:"code"`
}

type templateComponent struct {
	Type       string              `json:"type"`
	Parameters []templateParameter `json:"parameters"`
}

type templateParameter struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type sendMedia struct {
	ID       string `json:"id,omitempty"`
	Link     string `json:"link,omitempty"`
	Caption  string `json:"caption,omitempty"`
	Filename string `json:"filename,omitempty"`
}

type sendResponse struct {
	Messages []struct {
		ID            string `json:"id"`
		MessageStatus string `json:"message_status"`
	} `json:"messages"`
}

type errorResponse struct {
	Error *struct {
		Message   string `json:"message"`
		Type      string `json:"type"`
		Code      int    `json:"code"`
		Subcode   int    `json:"error_subcode"`
		ErrorData struct {
			Details string `json:"details"`
		} `json:"error_data"`
		TraceID     string `json:"fbtrace_id"`
		IsTransient bool   `json:"is_transient"`
	} `json:"error"`
}

// Send sends msg and returns the receipt with the message ID ("wamid.…").
//
// With msg.Template set it sends that approved template, in its language,
// with msg.Template.Params as the body parameters {{1}}…{{n}}. Otherwise it
// sends msg.Text as free text, or, with one attachment, a media message
// whose caption is msg.Text: an image, video, audio, sticker (image/webp) or
// document according to the attachment's type. An attachment is sent by
// link (URL), by media ID (a URL from MediaURL, as inbound media carry), or
// uploaded first when it holds Data. msg.InReplyTo makes the message a
// reply to that message ID; msg.Reference travels as
// biz_opaque_callback_data when it fits its 512 bytes. With a template,
// msg.Text is not sent (it is the inbox's rendered preview). msg.From.Address, when set, is the phone
// number ID to send from.
//
// Free text outside the service window fails with an error matching
// channel.ErrWindowClosed. Every refusal of the API is an *Error; a message
// that cannot be built (no recipient, no body, SendAt set: the Cloud API
// cannot schedule) fails with channel.ErrInvalidMessage and
// channel.ErrPermanent before any request.
func (s *Sender) Send(ctx context.Context, msg *channel.Message) (channel.Receipt, error) {
	if err := ctx.Err(); err != nil {
		return channel.Receipt{}, err
	}
	req, from, err := s.build(msg)
	if err != nil {
		return channel.Receipt{}, err
	}
	if len(msg.Attachments) == 1 && len(msg.Attachments[0].Data) > 0 && msg.Attachments[0].URL == "" {
		id, err := s.upload(ctx, from, msg.Attachments[0])
		if err != nil {
			return channel.Receipt{}, err
		}
		media := req.media()
		media.ID, media.Link = id, ""
	}
	body, err := json.Marshal(req)
	if err != nil {
		return channel.Receipt{}, invalidf("encode request: %v", err)
	}
	var out sendResponse
	if err := s.do(ctx, http.MethodPost, s.base+"/"+from+"/messages", "application/json", bytes.NewReader(body), &out); err != nil {
		return channel.Receipt{}, err
	}
	if len(out.Messages) == 0 || out.Messages[0].ID == "" {
		// Accepted or not, nobody can tell: unclassified, so never retried.
		return channel.Receipt{}, errors.New("whatsapp: send: response without a message ID")
	}
	return channel.Receipt{ProviderID: out.Messages[0].ID, Status: status.Validated, At: s.now()}, nil
}

// media returns the media object of a media request.
func (r *sendRequest) media() *sendMedia {
	for _, m := range []*sendMedia{r.Image, r.Video, r.Audio, r.Document, r.Sticker} {
		if m != nil {
			return m
		}
	}
	return nil
}

// build turns msg into a request body and the phone number ID to send from.
func (s *Sender) build(msg *channel.Message) (*sendRequest, string, error) {
	if msg == nil {
		return nil, "", invalidf("nil message")
	}
	if msg.Kind != 0 && msg.Kind != channel.WhatsApp {
		return nil, "", invalidf("kind %s sent through the WhatsApp sender", msg.Kind)
	}
	to := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(msg.To), "whatsapp:"))
	if to == "" {
		return nil, "", invalidf("no recipient")
	}
	if !msg.SendAt.IsZero() {
		return nil, "", invalidf("the Cloud API cannot schedule messages (SendAt set)")
	}
	from := s.phoneID
	if msg.From.Address != "" {
		from = msg.From.Address
		if !validID(from) {
			return nil, "", invalidf("sender %q is not a phone number ID", from)
		}
	}
	req := &sendRequest{MessagingProduct: "whatsapp", RecipientType: "individual", To: to}
	if msg.InReplyTo != "" {
		req.Context = &sendContext{MessageID: msg.InReplyTo}
	}
	if len(msg.Reference) <= maxCallbackData {
		req.CallbackData = msg.Reference
	}
	switch {
	case msg.Template != nil:
		t := msg.Template
		if strings.TrimSpace(t.Name) == "" {
			return nil, "", invalidf("template without a name")
		}
		if strings.TrimSpace(t.Language) == "" {
			return nil, "", invalidf("template %q without a language", t.Name)
		}
		if len(msg.Attachments) > 0 {
			return nil, "", invalidf("template %q with attachments", t.Name)
		}
		req.Type = "template"
		req.Template = &sendTemplate{Name: t.Name, Language: sendLanguage{Code: t.Language}}
		if len(t.Params) > 0 {
			ps := make([]templateParameter, len(t.Params))
			for i, p := range t.Params {
				if strings.TrimSpace(p) == "" {
					return nil, "", invalidf("template %q: parameter {{%d}} is blank", t.Name, i+1)
				}
				ps[i] = templateParameter{Type: "text", Text: p}
			}
			req.Template.Components = []templateComponent{{Type: "body", Parameters: ps}}
		}
	case len(msg.Attachments) > 1:
		return nil, "", invalidf("%d attachments: a WhatsApp message carries one", len(msg.Attachments))
	case len(msg.Attachments) == 1:
		a := msg.Attachments[0]
		m := &sendMedia{}
		switch id, ok := MediaID(a.URL); {
		case ok:
			m.ID = id
		case a.URL != "":
			u, err := url.Parse(a.URL)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return nil, "", invalidf("attachment URL %q is not an http(s) URL", a.URL)
			}
			m.Link = a.URL
		case len(a.Data) == 0:
			return nil, "", invalidf("attachment %q has no data and no URL", a.Name)
		}
		typ := a.DetectedType()
		switch {
		case typ == "image/webp":
			req.Type, req.Sticker = "sticker", m
		case strings.HasPrefix(typ, "image/"):
			req.Type, req.Image = "image", m
		case strings.HasPrefix(typ, "video/"):
			req.Type, req.Video = "video", m
		case strings.HasPrefix(typ, "audio/"):
			req.Type, req.Audio = "audio", m
		default:
			req.Type, req.Document = "document", m
			m.Filename = a.Name
		}
		if strings.TrimSpace(msg.Text) != "" {
			if req.Type == "audio" || req.Type == "sticker" {
				return nil, "", invalidf("%s message cannot carry text", req.Type)
			}
			m.Caption = msg.Text
		}
	default:
		if strings.TrimSpace(msg.Text) == "" {
			return nil, "", invalidf("no text, template or attachment")
		}
		req.Type = "text"
		req.Text = &sendText{Body: msg.Text, PreviewURL: s.preview}
	}
	return req, from, nil
}

// upload stores an attachment's data with POST /{phone-number-id}/media and
// returns its media ID.
func (s *Sender) upload(ctx context.Context, from string, a channel.Attachment) (string, error) {
	typ := a.DetectedType()
	if typ == "" {
		typ = "application/octet-stream"
	}
	name := a.Name
	if name == "" {
		name = "file"
	}
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	_ = w.WriteField("messaging_product", "whatsapp")
	_ = w.WriteField("type", typ)
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, name))
	h.Set("Content-Type", typ)
	part, _ := w.CreatePart(h)
	_, _ = part.Write(a.Data)
	_ = w.Close()
	var out struct {
		ID string `json:"id"`
	}
	if err := s.do(ctx, http.MethodPost, s.base+"/"+from+"/media", w.FormDataContentType(), &buf, &out); err != nil {
		return "", err
	}
	if out.ID == "" {
		return "", fmt.Errorf("whatsapp: upload: response without a media ID: %w", channel.ErrTransient)
	}
	return out.ID, nil
}

// do sends one authorised request and decodes a 2xx JSON response into out,
// or returns the classified error.
func (s *Sender) do(ctx context.Context, method, u, ctype string, body io.Reader, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("whatsapp: build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Accept", "application/json")
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return transportError(ctx, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return transportError(ctx, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return apiError(resp.StatusCode, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("whatsapp: decode response (HTTP %d): %v", resp.StatusCode, err)
	}
	return nil
}

// transportError classifies a failure to get a response: the context's own
// error when it ended, else transient.
func transportError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("whatsapp: request timed out: %w: %w", channel.ErrTransient, err)
	}
	return fmt.Errorf("whatsapp: request failed: %w: %w", channel.ErrTransient, err)
}

// apiError builds the *Error of a non-2xx response.
func apiError(code int, body []byte) *Error {
	e := &Error{StatusCode: code}
	var r errorResponse
	if json.Unmarshal(body, &r) == nil && r.Error != nil {
		e.Code, e.Subcode, e.Type = r.Error.Code, r.Error.Subcode, r.Error.Type
		e.Message, e.Details, e.TraceID = r.Error.Message, r.Error.ErrorData.Details, r.Error.TraceID
		e.Transient = r.Error.IsTransient
	} else {
		e.Message = http.StatusText(code)
	}
	e.classify()
	return e
}

// MediaScheme is the URL scheme of the attachment URLs of inbound media:
// "whatsapp-media:<media-id>". Fetch the content with FetchMedia, or send
// the attachment on as it is: the Sender sends it by media ID.
const MediaScheme = "whatsapp-media"

// MediaURL returns the attachment URL of a WhatsApp media ID.
func MediaURL(mediaID string) string { return MediaScheme + ":" + mediaID }

// MediaID returns the media ID of an attachment URL made by MediaURL, and
// false for any other URL.
func MediaID(rawURL string) (string, bool) {
	id, ok := strings.CutPrefix(rawURL, MediaScheme+":")
	if !ok || !validID(id) {
		return "", false
	}
	return id, true
}

type mediaInfo struct {
	URL      string      `json:"url"`
	MimeType string      `json:"mime_type"`
	SHA256   string      `json:"sha256"`
	FileSize json.Number `json:"file_size"`
	ID       string      `json:"id"`
}

// FetchMedia downloads the content of a media ID received in a webhook (an
// inbound attachment's URL gives it through MediaID): it asks the Graph API
// for the media's temporary URL, downloads it with the access token, and
// checks the size limit (Config.MaxMediaBytes) and the SHA-256 checksum.
// The returned attachment holds Data, ContentType and Size. Media that
// cannot be had, or whose content does not match, gives an error matching
// ErrMedia; API refusals are *Error.
func (s *Sender) FetchMedia(ctx context.Context, mediaID string) (channel.Attachment, error) {
	if err := ctx.Err(); err != nil {
		return channel.Attachment{}, err
	}
	if !validID(mediaID) {
		return channel.Attachment{}, fmt.Errorf("whatsapp: %w: %q is not a media ID", ErrMedia, mediaID)
	}
	var info mediaInfo
	if err := s.do(ctx, http.MethodGet, s.base+"/"+mediaID, "", nil, &info); err != nil {
		return channel.Attachment{}, err
	}
	if size, err := strconv.ParseInt(info.FileSize.String(), 10, 64); err == nil && size > s.maxMed {
		return channel.Attachment{}, fmt.Errorf("whatsapp: %w: media %s is %d bytes, limit %d", ErrMedia, mediaID, size, s.maxMed)
	}
	u, err := url.Parse(info.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return channel.Attachment{}, fmt.Errorf("whatsapp: %w: media %s has no download URL", ErrMedia, mediaID)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, info.URL, nil)
	if err != nil {
		return channel.Attachment{}, fmt.Errorf("whatsapp: %w: %v", ErrMedia, err)
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := s.client.Do(req)
	if err != nil {
		return channel.Attachment{}, transportError(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBytes))
		return channel.Attachment{}, apiError(resp.StatusCode, nil)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, s.maxMed+1))
	if err != nil {
		return channel.Attachment{}, transportError(ctx, err)
	}
	if int64(len(data)) > s.maxMed {
		return channel.Attachment{}, fmt.Errorf("whatsapp: %w: media %s is over the %d-byte limit", ErrMedia, mediaID, s.maxMed)
	}
	if info.SHA256 != "" {
		if !sumMatches(data, info.SHA256) {
			return channel.Attachment{}, fmt.Errorf("whatsapp: %w: media %s does not match its SHA-256", ErrMedia, mediaID)
		}
	}
	ctype := info.MimeType
	if ctype == "" {
		ctype = resp.Header.Get("Content-Type")
	}
	return channel.Attachment{Name: mediaID, ContentType: ctype, Data: data, URL: MediaURL(mediaID), Size: int64(len(data))}, nil
}

// sumMatches reports whether want is the SHA-256 of data, written in hex or
// in base64 (Meta's documents show both).
func sumMatches(data []byte, want string) bool {
	sum := sha256.Sum256(data)
	return strings.EqualFold(hex.EncodeToString(sum[:]), want) ||
		base64.StdEncoding.EncodeToString(sum[:]) == want ||
		base64.RawStdEncoding.EncodeToString(sum[:]) == want ||
		base64.URLEncoding.EncodeToString(sum[:]) == want
}
