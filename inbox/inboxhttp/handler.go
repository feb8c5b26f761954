package inboxhttp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox"
	ptemplate "github.com/parleyhq/parley/template"
)

// Agent is the staff user behind a request, as the host's Options.Agent
// says.
type Agent struct {
	// ID is the agent's ID: authors of messages, assignments and typing
	// indicators carry it. Required.
	ID string
	// Name is shown in the web inbox.
	Name string
	// Tenant scopes idempotency keys; hosts with one inbox per tenant set
	// it to the tenant's ID.
	Tenant string
}

// Errors a host's functions return to choose the answer.
var (
	// ErrUnauthenticated: no agent is signed in (401).
	ErrUnauthenticated = errors.New("inboxhttp: unauthenticated")
	// ErrForbidden: the agent may not do this (403).
	ErrForbidden = errors.New("inboxhttp: forbidden")
)

// Template is a message template a host offers in the composer's template
// picker (C4).
type Template struct {
	// ID identifies it in drafts.
	ID string
	// Name is shown in the picker.
	Name string
	// Kinds are the channel kinds it is for; empty means every kind.
	Kinds []channel.Kind
	// Source is its subject and bodies.
	Source ptemplate.Source
}

// Defaults of Options.
const (
	DefaultHeartbeat    = 15 * time.Second
	DefaultEventBuffer  = 16
	DefaultMaxBodyBytes = 1 << 20
)

// Options configure a Handler. Agent is required.
type Options struct {
	// Agent returns the agent behind a request: the host's session, token
	// or header check. An error matching ErrUnauthenticated answers 401,
	// ErrForbidden 403, any other 500. Required.
	Agent func(r *http.Request) (Agent, error)
	// Inbox, when set, picks the inbox of a request (one per tenant);
	// otherwise every request uses the inbox given to New.
	Inbox func(r *http.Request, a Agent) (*inbox.Inbox, error)
	// CanSee, when set, says whether an agent may see a thread: others
	// answer 403, are left out of thread pages (which may then hold fewer
	// threads than asked) and out of the event stream.
	CanSee func(r *http.Request, a Agent, t inbox.Thread) bool
	// Channels are the host's channels, for the composer's channel and
	// sender-identity pickers. Default: none listed.
	Channels *channel.Registry
	// Templates lists the templates the agent may use (C4). Default: none.
	Templates func(ctx context.Context, a Agent) ([]Template, error)
	// Catalog is the variable catalog templates are parsed with and the
	// variable picker lists (C5). Default: ptemplate.NewCatalog().
	Catalog *ptemplate.Catalog
	// Idempotency keeps Idempotency-Key results. Default:
	// NewMemoryIdempotency(IdempotencyOptions{}).
	Idempotency Idempotency
	// TrustedOrigins are origins other than the request's own that may
	// send state-changing requests (http.CrossOriginProtection).
	TrustedOrigins []string
	// Heartbeat is the interval of SSE comments that keep idle
	// connections open. Default: DefaultHeartbeat.
	Heartbeat time.Duration
	// EventBuffer is how many events an SSE client may fall behind before
	// its stream catches up from the inbox's history. Default:
	// DefaultEventBuffer.
	EventBuffer int
	// MaxBodyBytes bounds request bodies (413 beyond). Default:
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Now is the clock (mute expiries). Default: time.Now.
	Now func() time.Time
	// Logger receives diagnostics of 5xx answers. Default: slog.Default().
	Logger *slog.Logger
}

// Handler serves an inbox over HTTP. Create one with New.
type Handler struct {
	ib      *inbox.Inbox
	opts    Options
	catalog *ptemplate.Catalog
	idem    Idempotency
	log     *slog.Logger
	mux     *http.ServeMux
	root    http.Handler
	// lastEvent is the latest event encoded for the event streams.
	lastEvent atomic.Pointer[encodedEvent]
}

var _ http.Handler = (*Handler)(nil)

// New returns a handler for ib (nil when Options.Inbox picks the inbox of
// each request). A missing Agent function, or neither an inbox nor an Inbox
// function, is an error.
func New(ib *inbox.Inbox, opts Options) (*Handler, error) {
	if opts.Agent == nil {
		return nil, errors.New("inboxhttp: Options.Agent is required")
	}
	if ib == nil && opts.Inbox == nil {
		return nil, errors.New("inboxhttp: an inbox or Options.Inbox is required")
	}
	if opts.Heartbeat < 0 || opts.EventBuffer < 0 || opts.MaxBodyBytes < 0 {
		return nil, errors.New("inboxhttp: negative heartbeat, buffer or body size")
	}
	h := &Handler{ib: ib, opts: opts, catalog: opts.Catalog, idem: opts.Idempotency, log: opts.Logger, mux: http.NewServeMux()}
	if h.catalog == nil {
		h.catalog = ptemplate.NewCatalog()
	}
	if h.idem == nil {
		h.idem = NewMemoryIdempotency(IdempotencyOptions{})
	}
	if h.opts.Now == nil {
		h.opts.Now = time.Now
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.opts.Heartbeat == 0 {
		h.opts.Heartbeat = DefaultHeartbeat
	}
	if h.opts.EventBuffer == 0 {
		h.opts.EventBuffer = DefaultEventBuffer
	}
	if h.opts.MaxBodyBytes == 0 {
		h.opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	cop := http.NewCrossOriginProtection()
	for _, o := range opts.TrustedOrigins {
		if err := cop.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("inboxhttp: trusted origin: %w", err)
		}
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, Problem{Type: TypeCrossOrigin, Title: "Cross-origin request refused", Status: http.StatusForbidden,
			Detail: "state-changing requests must come from the inbox's own origin or a trusted one"})
	}))
	h.routes()
	h.root = cop.Handler(h.mux)
	return h, nil
}

// ServeHTTP serves the API, the event stream, the OpenAPI document and the
// web inbox.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.root.ServeHTTP(w, r) }

func (h *Handler) now() time.Time { return h.opts.Now() }

// call is one API request with its agent and inbox.
type call struct {
	h     *Handler
	w     http.ResponseWriter
	r     *http.Request
	ctx   context.Context
	agent Agent
	ib    *inbox.Inbox
}

// api wraps an API endpoint: it asks the host for the agent and the inbox,
// and answers the endpoint's error as a problem.
func (h *Handler) api(fn func(c *call) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := &call{h: h, w: w, r: r, ctx: r.Context()}
		err := h.identify(c)
		if err == nil {
			err = fn(c)
		}
		if err != nil {
			h.fail(w, r, err)
		}
	}
}

func (h *Handler) identify(c *call) error {
	a, err := h.opts.Agent(c.r)
	if err != nil {
		if errors.Is(err, ErrForbidden) {
			return err
		}
		if !errors.Is(err, ErrUnauthenticated) {
			return fmt.Errorf("inboxhttp: agent: %w", err)
		}
		return err
	}
	if a.ID == "" {
		return fmt.Errorf("%w: the host's Agent function returned no agent ID", ErrUnauthenticated)
	}
	c.agent, c.ib = a, h.ib
	if h.opts.Inbox != nil {
		ib, err := h.opts.Inbox(c.r, a)
		if err != nil {
			return err
		}
		if ib == nil {
			return fmt.Errorf("inboxhttp: the host's Inbox function returned no inbox")
		}
		c.ib = ib
	}
	return nil
}

// fail answers err as a problem.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	p := problemFor(err)
	if p.Status >= 500 {
		h.log.ErrorContext(r.Context(), "inboxhttp: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeProblem(w, r, p)
}

// decode reads a JSON body into v. An empty body leaves v as it is.
func (c *call) decode(v any) error {
	if ct := c.r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return &Problem{Type: TypeUnsupportedMediaType, Title: "Unsupported media type", Status: http.StatusUnsupportedMediaType,
				Detail: "request bodies are application/json"}
		}
	}
	body := http.MaxBytesReader(c.w, c.r.Body, c.h.opts.MaxBodyBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &Problem{Type: TypeTooLarge, Title: "Request body too large", Status: http.StatusRequestEntityTooLarge,
				Detail: fmt.Sprintf("request bodies are at most %d bytes", tooBig.Limit)}
		}
		return invalid("malformed JSON body: %v", err)
	}
	if dec.More() {
		return invalid("the body holds more than one JSON value")
	}
	return nil
}

// reply writes v as JSON with the status code.
func (c *call) reply(code int, v any) error {
	writeJSON(c.w, code, v)
	return nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// visible returns the thread after checking that the agent may see it.
func (c *call) visible(id string) (inbox.Thread, error) {
	t, err := c.ib.Thread(c.ctx, id)
	if err != nil {
		return inbox.Thread{}, err
	}
	if !c.canSee(t) {
		return inbox.Thread{}, fmt.Errorf("%w: thread %s", ErrForbidden, id)
	}
	return t, nil
}

// check checks that the agent may see thread id; without CanSee it costs
// nothing.
func (c *call) check(id string) error {
	if c.h.opts.CanSee == nil {
		return nil
	}
	_, err := c.visible(id)
	return err
}

func (c *call) canSee(t inbox.Thread) bool {
	return c.h.opts.CanSee == nil || c.h.opts.CanSee(c.r, c.agent, t)
}

// query helpers

func (c *call) str(name string) string { return c.r.URL.Query().Get(name) }

func (c *call) integer(name string) (int, error) {
	s := c.str(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, invalid("query parameter %s: not an integer: %q", name, s)
	}
	return n, nil
}

func (c *call) boolean(name string) (bool, error) {
	s := c.str(name)
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, invalid("query parameter %s: not a boolean: %q", name, s)
	}
	return b, nil
}

func (c *call) timeParam(name string) (time.Time, error) {
	s := c.str(name)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, invalid("query parameter %s: not an RFC 3339 time: %q", name, s)
	}
	return t, nil
}
