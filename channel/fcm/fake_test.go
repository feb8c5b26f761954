package fcm_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel/fcm"
)

// testKey is the service account's RSA key, generated once per test run.
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// otherKey is a key the fake Google does not know.
var otherKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

const (
	testProject = "studio-lumiere"
	testAccount = "parley@studio-lumiere.iam.gserviceaccount.com"
	testKeyID   = "4f9c0e1d2b3a"
)

func pemKey(k *rsa.PrivateKey) string {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// credentials returns a service account key file whose token_uri is the
// fake's token endpoint, signed with k.
func credentials(tokenURI string, k *rsa.PrivateKey) []byte {
	b, err := json.Marshal(map[string]string{
		"type": "service_account", "project_id": testProject, "private_key_id": testKeyID,
		"private_key": pemKey(k), "client_email": testAccount, "client_id": "1234567890",
		"auth_uri": "https://accounts.example/o/oauth2/auth", "token_uri": tokenURI,
	})
	if err != nil {
		panic(err)
	}
	return b
}

// reply is a scripted response.
type reply struct {
	status int
	header map[string]string
	body   string
}

// sent is one message the fake FCM accepted or refused, as it arrived.
type sent struct {
	Bearer  string
	Message fakeMessage
}

// The v1 Message schema, as far as the fake checks it: an unknown field is
// refused, like FCM does.
type fakeMessage struct {
	Token        string            `json:"token"`
	Topic        string            `json:"topic"`
	Notification *fakeNotification `json:"notification"`
	Data         map[string]string `json:"data"`
	Android      *fakeAndroid      `json:"android"`
	APNs         *fakeAPNs         `json:"apns"`
}

type fakeNotification struct {
	Title string `json:"title"`
	Body  string `json:"body"`
	Image string `json:"image"`
}

type fakeAndroid struct {
	CollapseKey  string `json:"collapse_key"`
	Priority     string `json:"priority"`
	TTL          string `json:"ttl"`
	Notification *struct {
		Sound             string `json:"sound"`
		ChannelID         string `json:"channel_id"`
		Tag               string `json:"tag"`
		NotificationCount *int   `json:"notification_count"`
	} `json:"notification"`
}

type fakeAPNs struct {
	Headers map[string]string `json:"headers"`
	Payload map[string]any    `json:"payload"`
}

var ttlRE = regexp.MustCompile(`^[0-9]+(\.[0-9]{1,9})?s$`)

// fakeGoogle is an httptest server playing Google's OAuth2 token endpoint
// and the FCM v1 send endpoint. The token endpoint checks the JWT
// assertion's signature against the service account's public key, its
// header and claims; the send endpoint checks the bearer token and the
// JSON shape, records every message and answers with scripted replies.
type fakeGoogle struct {
	srv       *httptest.Server
	pub       *rsa.PublicKey
	now       func() time.Time // the expiry clock of the tokens it issues
	expiresIn int

	mu          sync.Mutex
	issued      int
	tokens      map[string]time.Time // valid access tokens → expiry
	tokenReply  []reply              // scripted token endpoint replies
	sendReply   []reply              // scripted replies to the next sends
	byToken     map[string]reply     // replies for a device token, every time
	rejectAll   bool                 // every bearer refused (a revoked account)
	sent        []sent
	problems    []string
	inflight    int
	maxInflight int
}

func startFake(pub *rsa.PublicKey, now func() time.Time) *fakeGoogle {
	f := &fakeGoogle{pub: pub, now: now, expiresIn: 3600, tokens: map[string]time.Time{}, byToken: map[string]reply{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", f.token)
	mux.HandleFunc("POST /v1/projects/{project}/messages:send", f.send)
	f.srv = httptest.NewServer(mux)
	return f
}

// newFake starts a fake that knows the test key, on the clock now.
func newFake(tb testing.TB, now func() time.Time) *fakeGoogle {
	tb.Helper()
	f := startFake(&testKey().PublicKey, now)
	tb.Cleanup(func() {
		f.srv.Close()
		for _, p := range f.Problems() {
			tb.Errorf("fake Google: %s", p)
		}
	})
	return f
}

// config is a Config of a Sender talking to the fake.
func (f *fakeGoogle) config(now func() time.Time) fcm.Config {
	return fcm.Config{CredentialsJSON: credentials(f.srv.URL+"/token", testKey()), BaseURL: f.srv.URL, Now: now}
}

func (f *fakeGoogle) problem(format string, args ...any) {
	f.mu.Lock()
	f.problems = append(f.problems, fmt.Sprintf(format, args...))
	f.mu.Unlock()
}

// Problems are the requests the fake found malformed.
func (f *fakeGoogle) Problems() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.problems...)
}

// Issued is how many access tokens the token endpoint gave.
func (f *fakeGoogle) Issued() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.issued
}

// Sent returns every message that reached the send endpoint with a valid
// bearer token.
func (f *fakeGoogle) Sent() []sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sent(nil), f.sent...)
}

// MaxInflight is the largest number of sends it held at once.
func (f *fakeGoogle) MaxInflight() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.maxInflight
}

// ReplyNext scripts the replies to the next sends.
func (f *fakeGoogle) ReplyNext(rs ...reply) {
	f.mu.Lock()
	f.sendReply = append(f.sendReply, rs...)
	f.mu.Unlock()
}

// ReplyFor scripts the reply to every send to a device token.
func (f *fakeGoogle) ReplyFor(token string, r reply) {
	f.mu.Lock()
	f.byToken[token] = r
	f.mu.Unlock()
}

// TokenReplyNext scripts the token endpoint's next replies.
func (f *fakeGoogle) TokenReplyNext(rs ...reply) {
	f.mu.Lock()
	f.tokenReply = append(f.tokenReply, rs...)
	f.mu.Unlock()
}

// Revoke makes every access token issued so far invalid.
func (f *fakeGoogle) Revoke() {
	f.mu.Lock()
	clear(f.tokens)
	f.mu.Unlock()
}

// RejectAll makes FCM refuse every bearer token.
func (f *fakeGoogle) RejectAll(on bool) {
	f.mu.Lock()
	f.rejectAll = on
	f.mu.Unlock()
}

func write(w http.ResponseWriter, r reply) {
	for k, v := range r.header {
		w.Header().Set(k, v)
	}
	if strings.HasPrefix(strings.TrimSpace(r.body), "{") {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	}
	w.WriteHeader(r.status)
	_, _ = w.Write([]byte(r.body))
}

func (f *fakeGoogle) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		f.problem("token request form: %v", err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	var scripted *reply
	if len(f.tokenReply) > 0 {
		scripted = &f.tokenReply[0]
		f.tokenReply = f.tokenReply[1:]
	}
	f.mu.Unlock()
	if scripted != nil {
		write(w, *scripted)
		return
	}
	if g := r.PostForm.Get("grant_type"); g != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		f.problem("grant_type %q", g)
	}
	if err := f.verifyAssertion(r.PostForm.Get("assertion")); err != nil {
		write(w, reply{status: http.StatusBadRequest, body: `{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`})
		return
	}
	f.mu.Lock()
	f.issued++
	tok := fmt.Sprintf("ya29.fake-access-%d", f.issued)
	f.tokens[tok] = f.now().Add(time.Duration(f.expiresIn) * time.Second)
	exp := f.expiresIn
	f.mu.Unlock()
	write(w, reply{status: http.StatusOK, body: fmt.Sprintf(`{"access_token":%q,"expires_in":%d,"token_type":"Bearer"}`, tok, exp)})
}

// verifyAssertion checks a JWT bearer assertion as Google does: RS256
// signature by the service account's key, the key ID, and the claims.
func (f *fakeGoogle) verifyAssertion(a string) error {
	parts := strings.Split(a, ".")
	if len(parts) != 3 {
		return fmt.Errorf("assertion has %d parts", len(parts))
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(f.pub, crypto.SHA256, sum[:], sig); err != nil {
		return err // a key the account does not have: refused, not a fake problem
	}
	var h struct{ Alg, Typ, Kid string }
	var c struct {
		Iss, Scope, Aud string
		Iat, Exp        int64
	}
	if err := decodePart(parts[0], &h); err != nil {
		f.problem("assertion header: %v", err)
		return err
	}
	if err := decodePart(parts[1], &c); err != nil {
		f.problem("assertion claims: %v", err)
		return err
	}
	switch {
	case h.Alg != "RS256" || h.Typ != "JWT" || h.Kid != testKeyID:
		f.problem("assertion header %+v", h)
	case c.Iss != testAccount || c.Scope != fcm.Scope || c.Aud != f.srv.URL+"/token":
		f.problem("assertion claims %+v", c)
	case c.Exp <= c.Iat || c.Exp-c.Iat > 3600+60:
		f.problem("assertion lifetime iat %d exp %d", c.Iat, c.Exp)
	default:
		return nil
	}
	return fmt.Errorf("bad assertion")
}

func decodePart(p string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func (f *fakeGoogle) send(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.inflight++
	f.maxInflight = max(f.maxInflight, f.inflight)
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inflight--
		f.mu.Unlock()
	}()
	if p := r.PathValue("project"); p != testProject {
		f.problem("project %q", p)
	}
	bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	exp, known := f.tokens[bearer]
	valid := ok && known && f.now().Before(exp) && !f.rejectAll
	f.mu.Unlock()
	if !valid {
		write(w, reply{status: http.StatusUnauthorized, header: map[string]string{"WWW-Authenticate": `Bearer realm="https://accounts.google.com/"`},
			body: `{"error":{"code":401,"message":"Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.","status":"UNAUTHENTICATED"}}`})
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		f.problem("content type %q", ct)
	}
	var req struct {
		ValidateOnly bool        `json:"validate_only"`
		Message      fakeMessage `json:"message"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		f.problem("request JSON: %v", err)
		write(w, reply{status: http.StatusBadRequest, body: fmt.Sprintf(`{"error":{"code":400,"message":%q,"status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"message","description":%q}]}]}}`, err.Error(), err.Error())})
		return
	}
	m := req.Message
	if m.Token == "" || m.Topic != "" {
		f.problem("target: token %q topic %q", m.Token, m.Topic)
	}
	if a := m.Android; a != nil {
		if a.Priority != "" && a.Priority != "high" && a.Priority != "normal" {
			f.problem("android priority %q", a.Priority)
		}
		if a.TTL != "" && !ttlRE.MatchString(a.TTL) {
			f.problem("android ttl %q", a.TTL)
		}
	}
	if p := m.APNs; p != nil {
		if _, ok := p.Payload["aps"].(map[string]any); !ok {
			f.problem("apns payload without aps: %v", p.Payload)
		}
	}
	for k := range m.Data {
		if l := strings.ToLower(k); l == "from" || strings.HasPrefix(l, "google") || strings.HasPrefix(l, "gcm") {
			f.problem("reserved data key %q", k)
		}
	}
	f.mu.Lock()
	f.sent = append(f.sent, sent{Bearer: bearer, Message: m})
	n := len(f.sent)
	var rep *reply
	if rr, ok := f.byToken[m.Token]; ok {
		rep = &rr
	} else if len(f.sendReply) > 0 {
		rep = &f.sendReply[0]
		f.sendReply = f.sendReply[1:]
	}
	f.mu.Unlock()
	if rep != nil {
		write(w, *rep)
		return
	}
	write(w, reply{status: http.StatusOK, body: fmt.Sprintf(`{"name":"projects/%s/messages/0:15004153144552%02d%%31bd1c9631bd1c96"}`, testProject, n)})
}

// FCM's error responses, as its documentation shows them.
var (
	replyUnregistered = reply{status: 404, body: `{"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}`}
	replyInvalidToken = reply{status: 400, body: `{"error":{"code":400,"message":"The registration token is not a valid FCM registration token","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"INVALID_ARGUMENT"}]}}`}
	replyTokenField   = reply{status: 400, body: `{"error":{"code":400,"message":"Request contains an invalid argument.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"INVALID_ARGUMENT"},{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"message.token","description":"Invalid registration token"}]}]}}`}
	replyBadData      = reply{status: 400, body: `{"error":{"code":400,"message":"Invalid value at 'message.data[0].value' (TYPE_STRING), 12","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"message.data[0].value","description":"Invalid value at 'message.data[0].value' (TYPE_STRING), 12"}]}]}}`}
	replyNoRecipient  = reply{status: 400, body: `{"error":{"code":400,"message":"Recipient of the message is not set.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"message","description":"Recipient of the message is not set."}]},{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"INVALID_ARGUMENT"}]}}`}
	replyTooBig       = reply{status: 400, body: `{"error":{"code":400,"message":"Request contains an invalid argument.","status":"INVALID_ARGUMENT"}}`}
	replyQuota        = reply{status: 429, body: `{"error":{"code":429,"message":"Quota exceeded for quota metric 'Send requests' and limit 'Send requests per minute' of service 'fcm.googleapis.com'.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"QUOTA_EXCEEDED"}]}}`}
	replyUnavailable  = reply{status: 503, body: `{"error":{"code":503,"message":"The service is currently unavailable.","status":"UNAVAILABLE","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNAVAILABLE"}]}}`}
	replyInternal     = reply{status: 500, body: `{"error":{"code":500,"message":"Internal error encountered.","status":"INTERNAL","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"INTERNAL"}]}}`}
	replyBadGateway   = reply{status: 502, body: `<!DOCTYPE html><html lang=en><title>Error 502 (Server Error)!!1</title></html>`}
	replyMismatch     = reply{status: 403, body: `{"error":{"code":403,"message":"SenderId mismatch","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"SENDER_ID_MISMATCH"}]}}`}
	replyThirdParty   = reply{status: 401, body: `{"error":{"code":401,"message":"Auth error from APNS or Web Push Service","status":"UNAUTHENTICATED","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"THIRD_PARTY_AUTH_ERROR"}]}}`}
	replyDenied       = reply{status: 403, body: `{"error":{"code":403,"message":"Permission 'cloudmessaging.messages.create' denied on resource '//cloudresourcemanager.googleapis.com/projects/studio-lumiere' (or it may not exist).","status":"PERMISSION_DENIED"}}`}
	replyNoProject    = reply{status: 404, body: `{"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND"}}`}
)
