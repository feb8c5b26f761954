package inboxhttp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/channeltest"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/inboxhttp"
	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/recipient"
	ptemplate "github.com/parleyhq/parley/template"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// clock is the tests' clock: it moves only when a test says.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var (
	ana  = recipient.Contact{ID: "ana", FirstName: "Ana", LastName: "Silva", Phone: "+33612345678", Email: "ana@example.fr", Consent: recipient.NewKindSet(channel.SMS, channel.Email)}
	ben  = recipient.Contact{ID: "ben", FirstName: "Ben", LastName: "Roy", Phone: "+33687654321", Email: "ben@example.fr"}
	cleo = recipient.Contact{ID: "cleo", FirstName: "Hélène", LastName: "Dupont", Email: "helene@example.fr"}
)

// the OpenAPI validator, built once from the served document
var (
	specOnce sync.Once
	spec     validator.Validator
	specErr  error
)

func openAPIValidator(t *testing.T) validator.Validator {
	t.Helper()
	specOnce.Do(func() {
		doc, err := libopenapi.NewDocument(inboxhttp.OpenAPI())
		if err != nil {
			specErr = err
			return
		}
		v, errs := validator.NewValidator(doc)
		if len(errs) > 0 {
			specErr = errors.Join(errs...)
			return
		}
		if ok, verrs := v.ValidateDocument(); !ok {
			specErr = fmt.Errorf("the OpenAPI document is invalid: %v", verrs)
			return
		}
		spec = v
	})
	if specErr != nil {
		t.Fatal(specErr)
	}
	return spec
}

type env struct {
	t     *testing.T
	ctx   context.Context
	clock *clock
	ib    *inbox.Inbox
	dir   *memstore.Directory
	reg   *channel.Registry
	sms   *channeltest.Fake
	email *channeltest.Fake
	h     *inboxhttp.Handler
	srv   *httptest.Server
}

type envOptions struct {
	handler func(*inboxhttp.Options)
	inbox   func(*inbox.Options)
}

// newEnv returns a handler over an inbox on memstore with fake SMS and
// email channels, served by an httptest server. Requests carry the agent
// in the X-Agent header, which the test host's Agent function reads.
func newEnv(t *testing.T, eo envOptions) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), clock: &clock{t: t0}, dir: memstore.NewDirectory(), reg: channel.NewRegistry()}
	for _, c := range []recipient.Contact{ana, ben, cleo} {
		if err := e.dir.PutContact(c); err != nil {
			t.Fatal(err)
		}
	}
	e.dir.PutAudience(store.AudienceInfo{ID: "yoga", Name: "Yoga du matin", Members: []recipient.Contact{ana, ben, cleo}})
	e.dir.PutEvent(store.EventInfo{ID: "pilates", Name: "Pilates 18h", Start: t0.Add(9 * time.Hour), Attendees: []recipient.Attendee{
		{Contact: ana, Group: recipient.Booked}, {Contact: ben, Group: recipient.Waitlisted}}})
	e.sms = channeltest.NewFake(channel.SMS, channeltest.Options{IDPrefix: "SM"})
	e.email = channeltest.NewFake(channel.Email, channeltest.Options{IDPrefix: "EM"})
	must(t, e.reg.Register(channel.SMS, e.sms, channel.Config{Identities: []channel.Identity{
		{ID: "main", Address: "+33757000001", TwoWay: true, Default: true}, {ID: "brand", Address: "STUDIO"}}}))
	must(t, e.reg.Register(channel.Email, e.email, channel.Config{Identities: []channel.Identity{{ID: "hello", Address: "hello@studio.example", Default: true}}}))
	rules, err := recipient.NewRules(recipient.Options{DefaultRegion: "FR"})
	must(t, err)
	io := inbox.Options{Now: e.clock.Now, Directory: e.dir, Channels: e.reg, Rules: rules,
		Retry: inbox.Retry{Attempts: 1, Backoff: time.Millisecond, MaxBackoff: time.Millisecond}}
	if eo.inbox != nil {
		eo.inbox(&io)
	}
	ib, err := inbox.New(memstore.New(), io)
	must(t, err)
	e.ib = ib
	t.Cleanup(func() { ib.Close() })
	apply := func(u channel.StatusUpdate) { _ = ib.ApplyStatus(context.Background(), u) }
	e.sms.OnStatus(apply)
	e.email.OnStatus(apply)
	ho := inboxhttp.Options{
		Agent: func(r *http.Request) (inboxhttp.Agent, error) {
			switch a := r.Header.Get("X-Agent"); a {
			case "":
				return inboxhttp.Agent{}, inboxhttp.ErrUnauthenticated
			case "banned":
				return inboxhttp.Agent{}, inboxhttp.ErrForbidden
			default:
				return inboxhttp.Agent{ID: a, Name: strings.ToUpper(a[:1]) + a[1:], Tenant: "studio"}, nil
			}
		},
		Channels: e.reg,
		Templates: func(context.Context, inboxhttp.Agent) ([]inboxhttp.Template, error) {
			return []inboxhttp.Template{
				{ID: "welcome", Name: "Welcome", Source: ptemplate.Source{Text: "Hi {{ .Contact.FirstName }}, welcome to {{ .Account.Name }}!"}},
				{ID: "gift", Name: "Gift card", Kinds: []channel.Kind{channel.SMS},
					Source: ptemplate.Source{Text: "Your gift card: {{ .GiftCard.Value }}"}},
			}, nil
		},
		Now: e.clock.Now,
	}
	if eo.handler != nil {
		eo.handler(&ho)
	}
	e.h, err = inboxhttp.New(ib, ho)
	must(t, err)
	e.srv = httptest.NewServer(e.h)
	t.Cleanup(e.srv.Close)
	return e
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// reply is a response read whole.
type reply struct {
	code   int
	header http.Header
	body   []byte
}

func (r reply) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (r reply) problem(t *testing.T) inboxhttp.Problem {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q, want application/problem+json (body %s)", ct, r.body)
	}
	var p inboxhttp.Problem
	r.decode(t, &p)
	return p
}

// req is one request of a test.
type req struct {
	method, path string
	body         any
	agent        string
	header       map[string]string
}

// do sends a request as agent "lea" (unless said otherwise) and validates
// the request and the response against the OpenAPI document.
func (e *env) do(r req) reply {
	e.t.Helper()
	var raw []byte
	switch b := r.body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	default:
		var err error
		raw, err = json.Marshal(b)
		must(e.t, err)
	}
	hr, err := http.NewRequest(r.method, e.srv.URL+r.path, bytes.NewReader(raw))
	must(e.t, err)
	if raw != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	agent := r.agent
	if agent == "" {
		agent = "lea"
	}
	if agent != "-" {
		hr.Header.Set("X-Agent", agent)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	res, err := e.srv.Client().Do(hr)
	must(e.t, err)
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	must(e.t, err)
	e.validate(hr.Method, r.path, hr.Header, raw, res, body)
	return reply{code: res.StatusCode, header: res.Header, body: body}
}

// validate checks a response against the OpenAPI document. Requests are
// not checked: tests send malformed ones on purpose.
func (e *env) validate(method, path string, hdr http.Header, reqBody []byte, res *http.Response, body []byte) {
	e.t.Helper()
	v := openAPIValidator(e.t)
	vr := httptest.NewRequest(method, path, bytes.NewReader(reqBody))
	vr.Header = hdr.Clone()
	vres := &http.Response{StatusCode: res.StatusCode, Header: res.Header.Clone(), Body: io.NopCloser(bytes.NewReader(body)), Request: vr}
	if ok, errs := v.ValidateHttpResponse(vr, vres); !ok {
		var b strings.Builder
		for _, err := range errs {
			fmt.Fprintf(&b, "\n\t%s: %s", err.Message, err.Reason)
			for _, sv := range err.SchemaValidationErrors {
				fmt.Fprintf(&b, "\n\t\t%s at %s", sv.Reason, sv.FieldPath)
			}
		}
		e.t.Errorf("%s %s → %d does not match the OpenAPI document:%s\nbody: %s", method, path, res.StatusCode, b.String(), body)
	}
}

// ok sends a request that must answer code and decodes its body into v.
func (e *env) ok(r req, code int, v any) reply {
	e.t.Helper()
	rep := e.do(r)
	if rep.code != code {
		e.t.Fatalf("%s %s: %d %s, want %d", r.method, r.path, rep.code, rep.body, code)
	}
	if v != nil {
		rep.decode(e.t, v)
	}
	return rep
}

// fails sends a request that must fail with code and problem type typ.
func (e *env) fails(r req, code int, typ string) inboxhttp.Problem {
	e.t.Helper()
	rep := e.do(r)
	if rep.code != code {
		e.t.Fatalf("%s %s: %d %s, want %d", r.method, r.path, rep.code, rep.body, code)
	}
	p := rep.problem(e.t)
	if p.Type != typ || p.Status != code || p.Title == "" {
		e.t.Fatalf("%s %s: problem %+v, want type %s status %d", r.method, r.path, p, typ, code)
	}
	return p
}

// inbound receives an SMS from a contact's phone.
func (e *env) inbound(from, text string) inbox.Message {
	e.t.Helper()
	e.clock.Advance(time.Minute)
	m, err := e.ib.ReceiveMessage(e.ctx, channel.Inbound{Kind: channel.SMS, From: from, To: "+33757000001", Text: text,
		ProviderID: fmt.Sprintf("in-%d", e.clock.Now().UnixNano()), ReceivedAt: e.clock.Now()})
	must(e.t, err)
	return m
}

func (e *env) start(kind inbox.SubjectKind, id string) inbox.Thread {
	e.t.Helper()
	th, err := e.ib.Start(e.ctx, inbox.Subject{Kind: kind, ID: id})
	must(e.t, err)
	return th
}
