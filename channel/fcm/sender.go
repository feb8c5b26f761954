package fcm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/status"
)

// DefaultBaseURL is the origin of the FCM HTTP v1 API.
const DefaultBaseURL = "https://fcm.googleapis.com"

// MaxTTL is the longest time FCM keeps a message for an offline device.
const MaxTTL = 28 * 24 * time.Hour

// MaxPayloadBytes is FCM's limit on a message's notification and data.
const MaxPayloadBytes = 4096

var jsonType = []string{"application/json; charset=utf-8"}

// maxResponseBytes bounds how much of a response is read.
const maxResponseBytes = 1 << 20

// Keys of the data payload every push carries, so that the host's app can
// open the conversation and report the notification opened
// (inbox.Inbox.MarkPushOpened).
const (
	// DataThreadID is the thread's ID (channel.MetaThreadID).
	DataThreadID = "parley_thread_id"
	// DataMessageID is the message's ID (channel.MetaMessageID).
	DataMessageID = "parley_message_id"
	// DataDeliveryID is the delivery's ID (channel.Message.Reference).
	DataDeliveryID = "parley_delivery_id"
)

// MetaDataPrefix is the prefix of channel.Message metadata keys whose
// values go into the data payload under the rest of the key
// ("fcm.data.screen" → "screen").
const MetaDataPrefix = "fcm.data."

// Priority is the delivery priority of a push: High wakes the device and is
// shown at once (FCM "high", APNs 10); Normal may be delayed to save battery
// (FCM "normal", APNs 5). The zero value is High.
type Priority uint8

// The priorities.
const (
	High Priority = iota
	Normal
)

// Config configures a Sender. The service account key is required, as
// CredentialsJSON or CredentialsFile; the zero value of every other field
// means its default.
type Config struct {
	// CredentialsJSON is the service account key (the JSON file Firebase
	// gives, of type "service_account"). The Sender keeps the key in memory
	// and never logs or prints it.
	CredentialsJSON Secret
	// CredentialsFile is the path of that key file, read once by New, when
	// CredentialsJSON is empty.
	CredentialsFile string
	// ProjectID is the Firebase project messages are sent through. Default:
	// the key's project_id.
	ProjectID string
	// BaseURL is the FCM API origin. Default: DefaultBaseURL; tests point it
	// at an httptest server. (The token endpoint is the key's token_uri.)
	BaseURL string
	// HTTPClient sends the requests, to FCM and to the token endpoint.
	// Default: a client with a 30 s timeout.
	HTTPClient *http.Client
	// Now is the clock of receipts and token expiry. Default: time.Now.
	Now func() time.Time

	// Priority is the priority of every push. Default: High, since a
	// message from the studio is something to see now.
	Priority Priority
	// Sound is the notification sound (Android and APNs). Default: the
	// device's "default"; Silent sends none.
	Sound  string
	Silent bool
	// AndroidChannelID is the Android notification channel to post to.
	// Default: the one of the app's manifest.
	AndroidChannelID string
	// TTL is how long FCM keeps a push for a device that is offline (Android
	// ttl, APNs expiration). Zero means FCM's default of four weeks; at most
	// MaxTTL.
	TTL time.Duration
	// CollapseByThread makes the pushes of one thread replace each other: a
	// device that was offline gets only the latest (Android collapse_key,
	// APNs apns-collapse-id) and the tray shows one notification per thread
	// (Android tag).
	CollapseByThread bool
	// Badge, when set, returns the badge to show on the app icon (APNs
	// badge, Android notification_count) for a push: the contact's unread
	// count in the host's app, say. ok false sends no badge. The message's
	// Metadata carries channel.MetaContactID when the inbox sends it.
	Badge func(ctx context.Context, msg *channel.Message) (count int, ok bool)
	// Capabilities, when not nil, are what the Sender reports as a
	// channel.CapabilityReporter. Default: channel.DefaultCapabilities of
	// channel.Push (subject required, no attachments, no read receipts).
	Capabilities *channel.Capabilities
}

// Sender sends push notifications through the FCM HTTP v1 API
// (projects/{id}/messages:send), authenticated as a service account with
// OAuth2. It implements channel.Sender and channel.CapabilityReporter, is
// safe for concurrent use, and caches its access token across sends.
type Sender struct {
	project  string
	sendURL  string
	account  string
	keyID    string
	key      Secret
	tokenURL string
	client   *http.Client
	now      func() time.Time
	cfg      Config // the push options
	caps     channel.Capabilities

	fetching chan struct{} // held by the one caller fetching a token
	mu       sync.Mutex
	access   string    // Authorization header of the cached access token
	expiry   time.Time // its expiry on s.now's clock; zero: unknown
}

var (
	_ channel.Sender             = (*Sender)(nil)
	_ channel.CapabilityReporter = (*Sender)(nil)
)

// New validates cfg, reads the service account key and returns a Sender.
// It makes no request: the first send fetches the first access token. An
// invalid cfg or key gives an error matching ErrConfig, which never quotes
// the key.
func New(cfg Config) (*Sender, error) {
	data := []byte(cfg.CredentialsJSON)
	if len(data) == 0 {
		if cfg.CredentialsFile == "" {
			return nil, fmt.Errorf("fcm: %w: CredentialsJSON or CredentialsFile is required", ErrConfig)
		}
		var err error
		if data, err = os.ReadFile(cfg.CredentialsFile); err != nil {
			return nil, fmt.Errorf("fcm: %w: reading credentials: %w", ErrConfig, err)
		}
	}
	sa, err := parseServiceAccount(data)
	if err != nil {
		return nil, err
	}
	project := cfg.ProjectID
	if project == "" {
		project = sa.ProjectID
	}
	if !validProject(project) {
		return nil, fmt.Errorf("fcm: %w: project ID %q (set ProjectID or the key's project_id)", ErrConfig, project)
	}
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("fcm: %w: BaseURL %q is not an absolute http(s) URL", ErrConfig, base)
	}
	if cfg.Priority > Normal {
		return nil, fmt.Errorf("fcm: %w: priority %d", ErrConfig, cfg.Priority)
	}
	if cfg.TTL < 0 || cfg.TTL > MaxTTL {
		return nil, fmt.Errorf("fcm: %w: TTL %s outside [0, %s]", ErrConfig, cfg.TTL, MaxTTL)
	}
	s := &Sender{
		project:  project,
		sendURL:  strings.TrimRight(base, "/") + "/v1/projects/" + project + "/messages:send",
		account:  sa.ClientEmail,
		keyID:    sa.PrivateKeyID,
		key:      Secret(sa.PrivateKey),
		tokenURL: sa.TokenURI,
		client:   cfg.HTTPClient,
		now:      cfg.Now,
		cfg:      cfg,
		fetching: make(chan struct{}, 1),
	}
	s.cfg.CredentialsJSON, s.cfg.CredentialsFile = nil, ""
	if s.client == nil {
		s.client = &http.Client{Timeout: 30 * time.Second}
	}
	if s.now == nil {
		s.now = time.Now
	}
	if cfg.Capabilities != nil {
		s.caps = *cfg.Capabilities
		s.caps.Attachments.Types = append([]string(nil), cfg.Capabilities.Attachments.Types...)
	} else {
		s.caps = channel.DefaultCapabilities(channel.Push)
	}
	return s, nil
}

// validProject reports whether p can be a Firebase project ID or number.
func validProject(p string) bool {
	if p == "" || len(p) > 64 {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// String names the Sender by its project; it never shows the credentials.
func (s *Sender) String() string { return "fcm.Sender(project " + s.project + ")" }

// GoString is String.
func (s *Sender) GoString() string { return s.String() }

// Capabilities implements channel.CapabilityReporter.
func (s *Sender) Capabilities() channel.Capabilities {
	c := s.caps
	c.Attachments.Types = append([]string(nil), s.caps.Attachments.Types...)
	return c
}

// Send sends msg as a push notification to the device token msg.To and
// returns a receipt with the message name FCM gave
// ("projects/{id}/messages/{message-id}") and status.Sent: FCM has accepted
// the message for the device, and FCM reports nothing more (S1). An
// "opened" report from the host's app makes it read (inbox.MarkPushOpened).
//
// The notification's title is msg.Subject and its body msg.Text. The data
// payload carries DataThreadID, DataMessageID (from the metadata the inbox
// sets) and DataDeliveryID (msg.Reference), and every metadata value under
// MetaDataPrefix. Android and APNs get the priority, sound, channel, TTL,
// collapse key and badge of the Config; APNs groups notifications by thread
// (thread-id).
//
// A message that cannot be a push (no token, no title and no text,
// attachments, a provider template, SendAt: FCM cannot schedule, a payload
// over MaxPayloadBytes) fails with channel.ErrInvalidMessage and
// channel.ErrPermanent before any request. An FCM refusal is an *Error
// (a dead token matches channel.ErrAddressRetired); refused credentials are
// a *CredentialsError. An access token FCM refuses is replaced and the send
// tried once more. A network failure matches channel.ErrTransient: FCM takes
// no idempotency key, so a retry after a lost response may show the
// notification twice. The end of ctx returns ctx.Err().
func (s *Sender) Send(ctx context.Context, msg *channel.Message) (channel.Receipt, error) {
	if err := ctx.Err(); err != nil {
		return channel.Receipt{}, err
	}
	body, err := s.build(ctx, msg)
	if err != nil {
		return channel.Receipt{}, err
	}
	for try := 0; ; try++ {
		auth, err := s.token(ctx)
		if err != nil {
			return channel.Receipt{}, err
		}
		name, err := s.post(ctx, auth, body)
		var fe *Error
		if errors.As(err, &fe) && fe.credentials() {
			if fe.unauthenticated() && try == 0 {
				s.invalidate(auth) // expired or revoked early: one more try with a fresh token
				continue
			}
			return channel.Receipt{}, &CredentialsError{Account: s.account, Op: "send", StatusCode: fe.StatusCode, Reason: fe.Message, Err: fe}
		}
		if err != nil {
			return channel.Receipt{}, err
		}
		return channel.Receipt{ProviderID: name, Status: status.Sent, At: s.now()}, nil
	}
}

// post sends one request, authorised by auth ("Bearer …"), and reads its
// response.
func (s *Sender) post(ctx context.Context, auth string, body []byte) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.sendURL, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("fcm: build request: %w: %w", channel.ErrPermanent, err)
	}
	req.Header["Authorization"] = []string{auth}
	req.Header["Content-Type"] = jsonType
	resp, err := s.client.Do(req)
	if err != nil {
		return "", transportError(ctx, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil && (resp.StatusCode < 200 || resp.StatusCode > 299) {
		return "", transportError(ctx, err)
	}
	// a 2xx whose body could not be read was accepted all the same
	return parseResponse(resp.StatusCode, resp.Header.Get("Retry-After"), data, s.now())
}

// transportError classifies a failure to get a response: the context's own
// error when it ended, else transient.
func transportError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("fcm: request timed out: %w: %w", channel.ErrTransient, err)
	}
	return fmt.Errorf("fcm: request failed: %w: %w", channel.ErrTransient, err)
}

// The JSON of a send request (the parts of the v1 Message the Sender uses).
type sendRequest struct {
	Message message `json:"message"`
}

type message struct {
	Token        string            `json:"token"`
	Notification notification      `json:"notification"`
	Data         map[string]string `json:"data,omitempty"`
	Android      androidConfig     `json:"android"`
	APNs         apnsConfig        `json:"apns"`
}

type notification struct {
	Title string `json:"title,omitempty"`
	Body  string `json:"body,omitempty"`
}

type androidConfig struct {
	CollapseKey  string              `json:"collapse_key,omitempty"`
	Priority     string              `json:"priority"`
	TTL          string              `json:"ttl,omitempty"`
	Notification androidNotification `json:"notification"`
}

type androidNotification struct {
	Sound             string `json:"sound,omitempty"`
	ChannelID         string `json:"channel_id,omitempty"`
	Tag               string `json:"tag,omitempty"`
	NotificationCount *int   `json:"notification_count,omitempty"`
}

type apnsConfig struct {
	Headers apnsHeaders `json:"headers"`
	Payload apnsPayload `json:"payload"`
}

type apnsHeaders struct {
	Priority   string `json:"apns-priority"`
	PushType   string `json:"apns-push-type"`
	Expiration string `json:"apns-expiration,omitempty"`
	CollapseID string `json:"apns-collapse-id,omitempty"`
}

type apnsPayload struct {
	Aps aps `json:"aps"`
}

type aps struct {
	Sound    string `json:"sound,omitempty"`
	Badge    *int   `json:"badge,omitempty"`
	ThreadID string `json:"thread-id,omitempty"`
}

// reservedData reports data keys FCM keeps for itself.
func reservedData(k string) bool {
	l := strings.ToLower(k)
	return l == "from" || l == "notification" || l == "message_type" ||
		strings.HasPrefix(l, "google") || strings.HasPrefix(l, "gcm")
}

// build turns msg into the JSON of a send request.
func (s *Sender) build(ctx context.Context, msg *channel.Message) ([]byte, error) {
	if msg == nil {
		return nil, invalidf("nil message")
	}
	if msg.Kind != 0 && msg.Kind != channel.Push {
		return nil, invalidf("kind %s sent through the FCM sender", msg.Kind)
	}
	to := strings.TrimSpace(msg.To)
	if to == "" {
		return nil, invalidf("no device token")
	}
	switch {
	case !msg.SendAt.IsZero():
		return nil, invalidf("FCM cannot schedule messages (SendAt set)")
	case len(msg.Attachments) > 0:
		return nil, invalidf("%d attachments: a push carries none", len(msg.Attachments))
	case msg.Template != nil:
		return nil, invalidf("template %q: push has no provider templates", msg.Template.Name)
	case strings.TrimSpace(msg.Subject) == "" && strings.TrimSpace(msg.Text) == "":
		return nil, invalidf("no title and no text")
	}
	m := message{Token: to, Notification: notification{Title: msg.Subject, Body: msg.Text}}
	thread := msg.Metadata[channel.MetaThreadID]
	size := len(msg.Subject) + len(msg.Text)
	put := func(k, v string) {
		if v == "" {
			return
		}
		if m.Data == nil {
			m.Data = make(map[string]string, 4)
		}
		m.Data[k] = v
		size += len(k) + len(v)
	}
	put(DataThreadID, thread)
	put(DataMessageID, msg.Metadata[channel.MetaMessageID])
	put(DataDeliveryID, msg.Reference)
	for k, v := range msg.Metadata {
		if key, ok := strings.CutPrefix(k, MetaDataPrefix); ok {
			if key == "" || reservedData(key) {
				return nil, invalidf("data key %q is reserved by FCM", key)
			}
			put(key, v)
		}
	}
	if size > MaxPayloadBytes {
		return nil, invalidf("payload of %d bytes, over FCM's %d", size, MaxPayloadBytes)
	}

	sound := s.cfg.Sound
	if sound == "" {
		sound = "default"
	}
	if s.cfg.Silent {
		sound = ""
	}
	a := &m.Android
	a.Priority, a.Notification.Sound, a.Notification.ChannelID = "high", sound, s.cfg.AndroidChannelID
	headers := apnsHeaders{Priority: "10", PushType: "alert"}
	if s.cfg.Priority == Normal {
		a.Priority, headers.Priority = "normal", "5"
	}
	if s.cfg.TTL > 0 {
		a.TTL = strconv.FormatInt(int64(s.cfg.TTL/time.Second), 10) + "s"
		headers.Expiration = strconv.FormatInt(s.now().Add(s.cfg.TTL).Unix(), 10)
	}
	if s.cfg.CollapseByThread && thread != "" {
		a.CollapseKey, a.Notification.Tag = thread, thread
		if len(thread) <= 64 {
			headers.CollapseID = thread
		}
	}
	m.APNs = apnsConfig{Headers: headers, Payload: apnsPayload{Aps: aps{Sound: sound, ThreadID: thread}}}
	if s.cfg.Badge != nil {
		if n, ok := s.cfg.Badge(ctx, msg); ok && n >= 0 {
			a.Notification.NotificationCount = &n
			m.APNs.Payload.Aps.Badge = &n
		}
	}
	b, err := json.Marshal(sendRequest{Message: m})
	if err != nil {
		return nil, invalidf("encode request: %v", err)
	}
	return b, nil
}
