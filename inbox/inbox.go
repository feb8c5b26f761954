package inbox

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/recipient"
	ptemplate "github.com/parleyhq/parley/template"
)

// DefaultResumeWindow is how long after a thread's latest activity a new
// conversation with its subject still resumes it (T2).
const DefaultResumeWindow = 90 * 24 * time.Hour

// NoLimit is the value of a window option that has no limit: with
// ResumeWindow: NoLimit a conversation always resumes its subject's thread
// however old (SPEC T2's "0 = always resume"), and VisibilityWindow:
// NoLimit lists every thread (T17; its zero value, the default, is
// unlimited too). It is the most negative duration; any other negative
// window is invalid.
//
// Why a named value rather than zero: the zero value of every option means
// its default (a zero Options is a working inbox), and the default resume
// window is 90 days, so "no limit" needs a name of its own.
const NoLimit = time.Duration(math.MinInt64)

// DefaultTypingTTL is how long a typing indicator lasts unless refreshed
// (T16).
const DefaultTypingTTL = 5 * time.Second

// DefaultEventBuffer is the number of events a subscriber may fall behind
// before it misses some (T20).
const DefaultEventBuffer = 256

// Options configure an Inbox. The zero value means every default.
type Options struct {
	// Now is the clock, and the only one: every time the inbox judges or
	// records comes from it — the WhatsApp service window and quiet hours
	// of the recipient rules (which take the time from the inbox rather
	// than hold a clock), the typing TTL, mute expiry, the resume and
	// visibility windows, scheduling, and the arrival time of provider
	// reports that carry none (channeltest.Fake's, by default). Default:
	// time.Now.
	Now func() time.Time
	// NewID returns a new unique ID for threads, messages and deliveries.
	// Default: 26-character time-ordered random IDs.
	NewID func() string
	// Directory finds the host's contacts, audiences and events. Default:
	// none, so every inbound sender is unknown and Start needs no lookup.
	Directory Directory
	// Details resolves the details pane of a thread (T19). Default: the
	// Directory when it implements DetailsResolver.
	Details DetailsResolver
	// ResumeWindow is the resume window of T2: a conversation with a
	// subject whose thread was active within it resumes that thread. Zero
	// means DefaultResumeWindow (90 days); NoLimit always resumes (T2's
	// "0 = always resume", named because a zero option is its default).
	ResumeWindow time.Duration
	// VisibilityWindow leaves threads with no activity inside it out of the
	// list (T17). Zero, the default, and NoLimit mean unlimited.
	VisibilityWindow time.Duration
	// DormantThreads enables the dormant-thread policy of T18.
	DormantThreads bool
	// TypingTTL is how long a typing indicator lasts (T16). Zero means
	// DefaultTypingTTL.
	TypingTTL time.Duration
	// Keywords are the opt-out keywords (R5). The zero value means the
	// defaults.
	Keywords recipient.KeywordSet
	// EventBuffer is each subscriber's buffer (T20). Zero means
	// DefaultEventBuffer.
	EventBuffer int
	// EventHistory is how many recent events the inbox keeps in memory for
	// subscribers that resume after a given event (SubscribeOptions.After);
	// older ones are read from the store's event feed. Zero means
	// DefaultEventHistory.
	EventHistory int
	// EventRetention is how long the store's event feed keeps events for
	// subscribers that resume (an SSE client that reconnects): older ones
	// are pruned, and a subscriber that resumes after one gets EventResync.
	// Zero means DefaultEventRetention; NoLimit keeps them all.
	EventRetention time.Duration
	// Logger receives diagnostics: outcomes the store refused, interrupted
	// sends, failed dispatcher rounds. Default: none (a discarding
	// logger): a library stays silent unless its host asks. The records
	// carry the context of the operation, so a handler that reads trace
	// context from it (an OpenTelemetry log bridge) ties them to its span.
	Logger *slog.Logger
	// TracerProvider and MeterProvider receive the inbox's spans and
	// metrics (see Observability in the package doc). Default: the otel
	// global providers, which are no-ops until the host installs an SDK
	// (otel.SetTracerProvider, otel.SetMeterProvider), as OpenTelemetry
	// advises libraries; the inbox then reports to it without being
	// created again.
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider

	// Channels are the host's registered channels, used by Send (C1).
	// Default: none, so every send is refused with channel.ErrNotRegistered.
	Channels *channel.Registry
	// Rules are the recipient rules (R2–R8). Their phone parsing and
	// default region also normalise every address entering the inbox (T2,
	// R6). Default: recipient.NewRules with zero options (international
	// numbers only).
	Rules *recipient.Rules
	// Catalog is the template catalog WhatsApp templates render with.
	// Default: ptemplate.NewCatalog().
	Catalog *ptemplate.Catalog
	// TemplateData, when set, returns a recipient's template values for
	// the scopes the host provides (C5): the scopes it resolves come before
	// the inbox's own (the contact, the account, the agent, the thread's
	// event or audience; see Draft.Values). Declare the scopes it provides
	// in TemplateScopes (or per send in Draft.Scopes): an undeclared scope
	// is not provided, and preflight reports its variables.
	TemplateData func(ctx context.Context, c recipient.Contact, s Subject) (ptemplate.Resolver, error)
	// TemplateScopes are the scopes TemplateData provides on every send.
	TemplateScopes []ptemplate.Scope
	// Account is the account scope's values (C5): the business's name,
	// phone, email, address, website. Nil: no account scope.
	Account map[string]any
	// Prices are the host's price table for cost estimates (C13). Default:
	// every message costs nothing.
	Prices *Prices
	// Concurrency bounds the sends in flight per fan-out. Default: 16.
	Concurrency int
	// RateLimits cap sends per second per sender identity (C9), across
	// every Inbox on the store (see RateLimit).
	RateLimits []RateLimit
	// Retry is the retry policy of transient send failures.
	Retry Retry
	// MirrorBroadcasts shows every broadcast in each recipient's own thread
	// too (M3). Default: contact threads show only direct messages.
	MirrorBroadcasts bool
	// WhatsAppTemplates looks up an approved WhatsApp template by name and
	// language when a scheduled message that uses one is sent (C8, C10).
	// Scheduling a WhatsApp template needs it.
	WhatsAppTemplates func(name, language string) (*ptemplate.WhatsAppTemplate, bool)
	// ReplyAddress, when set, gives the reply-to address of email sent
	// from a thread: a per-thread address (channel/email.ReplyAddress)
	// routes replies back to it.
	ReplyAddress func(threadID string) string
	// ClaimLease is how long a dispatcher holds a claimed scheduled delivery
	// (C8). Default: one minute.
	ClaimLease time.Duration
	// StatusWait is how long ApplyStatus keeps looking for the delivery of
	// a status update whose provider ID no delivery has yet: the update may
	// race the write of its own send's outcome. After that the update is
	// acknowledged and reported (EventUnknownStatus, the Logger) with an
	// error matching channel.ErrUnknownMessage. Zero means
	// DefaultStatusWait; a negative value means not to wait (NoLimit, a
	// wait without end, is invalid). A handler
	// that applies the statuses of a batch one by one may wait this long
	// for each unknown one, so keep it well below the providers' webhook
	// timeouts.
	StatusWait time.Duration
	// OutcomeRetry is how long the inbox keeps trying to record a send's
	// outcome that the store refused (an outage after the provider
	// accepted the message), in the background once the send's context
	// has ended; what is still not written then is logged, reported
	// (EventOutcomeUnknown) and left to Recover. It is also the age from
	// which Recover takes a delivery still marked as sending for
	// interrupted. Zero means DefaultOutcomeRetry.
	OutcomeRetry time.Duration
}

// Inbox is the inbox service: threads, messages, every inbox rule, queries
// and events, over a Store. Create one with New. It is safe for concurrent
// use; several Inboxes may share one Store (several app instances on one
// database).
type Inbox struct {
	store    Store                  // the host's store, traced (tracedStore)
	base     Store                  // the host's store
	batch    store.DeliveriesWriter // the host's store's batch writes, nil without (batchWriter)
	obs      *observer
	now      func() time.Time
	newID    func() string
	dir      Directory
	dirIDs   ContactIDFinder // dir's, nil when it has none
	details  DetailsResolver
	resume   time.Duration // NoLimit: always resume
	visible  time.Duration
	dormant  bool
	typingTL time.Duration
	keywords *recipient.Classifier
	log      *slog.Logger

	events *hub
	feed   *feed
	// eventBufs are *eventBuf: see Inbox.eventBuf
	eventBufs sync.Pool

	typingMu sync.Mutex
	typing   map[string]map[string]time.Time // thread → agent → expiry

	closed atomic.Bool
	work   *gate // the work in flight; shut by Shutdown and Close

	channels       *channel.Registry
	rules          *recipient.Rules
	catalog        *ptemplate.Catalog
	templateData   func(ctx context.Context, c recipient.Contact, s Subject) (ptemplate.Resolver, error)
	templateScopes []ptemplate.Scope
	account        map[string]any
	prices         *Prices
	concurrency    int
	rateLimits     []RateLimit
	retry          Retry
	mirror         bool
	lease          time.Duration
	replyAddress   func(threadID string) string
	waTemplates    func(name, language string) (*ptemplate.WhatsAppTemplate, bool)
	limMu          sync.Mutex
	limiters       map[string]*sendLimiter
	statusWait     time.Duration
	unknown        unknownIDs
	outcomeRetry   time.Duration
	outbox         *outbox
}

// New returns an Inbox on s. The options are validated once: a negative
// window other than NoLimit, a negative TTL or buffer, or invalid keywords,
// give an error matching ErrInvalidArgument.
func New(s Store, opts Options) (*Inbox, error) {
	if s == nil {
		return nil, fmt.Errorf("inbox: %w: nil store", ErrInvalidArgument)
	}
	window := func(d time.Duration) bool { return d >= 0 || d == NoLimit }
	if !window(opts.ResumeWindow) || !window(opts.VisibilityWindow) || opts.TypingTTL < 0 || opts.EventBuffer < 0 ||
		opts.EventHistory < 0 || opts.Concurrency < 0 || opts.Retry.Attempts < 0 || opts.Retry.Backoff < 0 ||
		opts.ClaimLease < 0 || opts.OutcomeRetry < 0 || opts.StatusWait == NoLimit || !window(opts.EventRetention) {
		return nil, fmt.Errorf("inbox: %w: negative window, TTL or buffer", ErrInvalidArgument)
	}
	kw, err := recipient.NewClassifier(opts.Keywords)
	if err != nil {
		return nil, fmt.Errorf("inbox: %w: %w", ErrInvalidArgument, err)
	}
	obs := newObserver(opts.TracerProvider, opts.MeterProvider)
	in := &Inbox{
		store: &tracedStore{next: s, tracer: obs.tracer}, base: s, obs: obs, now: opts.Now, newID: opts.NewID, dir: opts.Directory, details: opts.Details,
		resume: opts.ResumeWindow, visible: opts.VisibilityWindow,
		dormant: opts.DormantThreads, typingTL: opts.TypingTTL, keywords: kw, log: opts.Logger,
		typing:   make(map[string]map[string]time.Time),
		channels: opts.Channels, rules: opts.Rules, catalog: opts.Catalog, templateData: opts.TemplateData, templateScopes: opts.TemplateScopes,
		account: opts.Account, prices: opts.Prices, concurrency: opts.Concurrency, rateLimits: opts.RateLimits,
		retry: opts.Retry, mirror: opts.MirrorBroadcasts, lease: opts.ClaimLease, replyAddress: opts.ReplyAddress, waTemplates: opts.WhatsAppTemplates, limiters: map[string]*sendLimiter{},
		statusWait: opts.StatusWait, outcomeRetry: opts.OutcomeRetry, outbox: newOutbox(), work: newGate(),
	}
	in.batch = batchWriter(s)
	in.dirIDs, _ = in.dir.(ContactIDFinder)
	if in.outcomeRetry == 0 {
		in.outcomeRetry = DefaultOutcomeRetry
	}
	switch {
	case in.statusWait == 0:
		in.statusWait = DefaultStatusWait
	case in.statusWait < 0:
		in.statusWait = 0
	}
	if in.rules == nil {
		if in.rules, err = recipient.NewRules(recipient.Options{}); err != nil {
			return nil, fmt.Errorf("inbox: %w: %w", ErrInvalidArgument, err)
		}
	}
	if in.catalog == nil {
		in.catalog = ptemplate.NewCatalog()
	}
	if in.concurrency == 0 {
		in.concurrency = 16
	}
	if in.retry.Attempts == 0 {
		in.retry.Attempts = 3
	}
	if in.retry.Backoff == 0 {
		in.retry.Backoff = 200 * time.Millisecond
	}
	if in.retry.MaxBackoff < in.retry.Backoff {
		in.retry.MaxBackoff = max(5*time.Second, in.retry.Backoff)
	}
	if in.lease == 0 {
		in.lease = time.Minute
	}
	clock := in.now
	if clock == nil {
		clock = time.Now
	}
	// microseconds: what every store (PostgreSQL among them) keeps, so a
	// time written and read back is Equal to the one the inbox holds
	in.now = func() time.Time { return clock().Round(0).Truncate(time.Microsecond) }
	if in.newID == nil {
		in.newID = newRandomID
	}
	if in.resume == 0 {
		in.resume = DefaultResumeWindow
	}
	if in.typingTL == 0 {
		in.typingTL = DefaultTypingTTL
	}
	if in.log == nil {
		in.log = slog.New(slog.DiscardHandler)
	}
	if in.details == nil {
		if d, ok := opts.Directory.(DetailsResolver); ok {
			in.details = d
		}
	}
	buf := opts.EventBuffer
	if buf == 0 {
		buf = DefaultEventBuffer
	}
	in.events = newHub(buf, opts.EventHistory)
	in.events.obs = obs
	in.feed = newFeed(opts.EventRetention)
	return in, nil
}

// Store returns the store the inbox runs on.
func (in *Inbox) Store() Store { return in.base }

// Close stops the background writes of send outcomes the store refused
// (see Options.OutcomeRetry), each after one last write, logging and
// reporting what could not be written, then stops reading the event feed
// and ends every event subscription. It does not wait for the work in
// flight (see Shutdown for a graceful stop); new work (Send, Receive,
// ApplyStatus, Dispatch…) fails with ErrClosed. Reads and thread changes
// still work on the store; Subscribe returns a closed subscription.
func (in *Inbox) Close() error {
	in.work.close()
	if in.closed.CompareAndSwap(false, true) {
		in.outbox.close()
		in.closeFeed()
	}
	return nil
}

var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// newRandomID returns a 26-character ID: 48 bits of milliseconds then 80
// random bits, so IDs sort roughly by creation time.
func newRandomID() string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixMilli())<<16)
	_, _ = rand.Read(b[6:])
	return idEncoding.EncodeToString(b[:])
}
