package email

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"net"
	netmail "net/mail"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	mail "github.com/wneessen/go-mail"
	mailsmtp "github.com/wneessen/go-mail/smtp"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/status"
)

// TLSPolicy says how the connection to the SMTP server is encrypted. The
// zero value, StartTLSRequired, is the safe default.
type TLSPolicy uint8

// The TLS policies.
const (
	// StartTLSRequired connects in plain text and upgrades with STARTTLS
	// before anything else; a server that does not offer STARTTLS is an
	// error (port 587, submission).
	StartTLSRequired TLSPolicy = iota
	// StartTLSOpportunistic upgrades with STARTTLS when the server offers
	// it and goes on in plain text when it does not.
	StartTLSOpportunistic
	// ImplicitTLS speaks TLS from the first byte (port 465, RFC 8314).
	ImplicitTLS
	// NoTLS never encrypts. Use it only for a relay on loopback or inside
	// a trusted network.
	NoTLS
)

// String returns the policy's name.
func (p TLSPolicy) String() string {
	switch p {
	case StartTLSRequired:
		return "starttls"
	case StartTLSOpportunistic:
		return "starttls-opportunistic"
	case ImplicitTLS:
		return "tls"
	case NoTLS:
		return "none"
	}
	return "tlspolicy(" + strconv.Itoa(int(p)) + ")"
}

// AuthMechanism names the SMTP AUTH mechanism (RFC 4954) the Sender uses.
type AuthMechanism string

// The AUTH mechanisms.
const (
	// AuthAuto picks the strongest mechanism the server offers:
	// SCRAM-SHA-256, SCRAM-SHA-1, then PLAIN or LOGIN (only over TLS or to
	// loopback), then CRAM-MD5. It is used when Username is set and Auth is
	// empty.
	AuthAuto AuthMechanism = ""
	// AuthNone sends no AUTH command even when Username is set.
	AuthNone AuthMechanism = "NONE"
	// AuthPlain is SASL PLAIN (RFC 4616); sent only over TLS or to loopback.
	AuthPlain AuthMechanism = "PLAIN"
	// AuthLogin is the LOGIN mechanism; sent only over TLS or to loopback.
	AuthLogin AuthMechanism = "LOGIN"
	// AuthCRAMMD5 is CRAM-MD5 (RFC 2195).
	AuthCRAMMD5 AuthMechanism = "CRAM-MD5"
	// AuthSCRAMSHA1 is SCRAM-SHA-1 (RFC 5802).
	AuthSCRAMSHA1 AuthMechanism = "SCRAM-SHA-1"
	// AuthSCRAMSHA256 is SCRAM-SHA-256 (RFC 7677).
	AuthSCRAMSHA256 AuthMechanism = "SCRAM-SHA-256"
	// AuthXOAUTH2 is XOAUTH2 (Gmail, Microsoft 365); Password holds the
	// access token.
	AuthXOAUTH2 AuthMechanism = "XOAUTH2"
)

const (
	defaultTimeout    = 30 * time.Second
	messageIDTokenLen = 26
)

// Config configures a Sender. Host and a From address are required; the
// zero value of every other field means its default.
type Config struct {
	// Host is the SMTP server's host name. It is also the name its TLS
	// certificate is checked against, unless TLSConfig.ServerName is set.
	Host string
	// Port is the server's port. Zero means 465 for ImplicitTLS, 25 for
	// NoTLS and 587 otherwise.
	Port int
	// TLS is the encryption policy; the zero value requires STARTTLS.
	TLS TLSPolicy
	// TLSConfig is the TLS client configuration (custom root CAs, client
	// certificates). Nil means the system roots and ServerName = Host.
	TLSConfig *tls.Config
	// Username and Password are the AUTH credentials; for AuthXOAUTH2,
	// Password is the OAuth 2.0 access token. No AUTH is sent when
	// Username is empty.
	Username string
	Password string
	// Auth is the AUTH mechanism; empty means AuthAuto.
	Auth AuthMechanism
	// From is the default sender identity (C9): Address is required, Name
	// is the display name. A message's own From, when it has an Address,
	// wins.
	From channel.Identity
	// MessageIDDomain is the domain of the Message-IDs the Sender makes.
	// Empty means the domain of From.Address.
	MessageIDDomain string
	// HELO is the name sent with EHLO. Empty means the local host name.
	HELO string
	// Timeout bounds each network step (dial, each command, the data
	// transfer). Zero means 30 seconds. The context of Send bounds the whole.
	Timeout time.Duration
	// MaxAttachmentBytes is the size limit of one attachment reported by
	// Capabilities. Zero means the email default of channel.DefaultCapabilities.
	MaxAttachmentBytes int64
	// Now is the clock for the Date header and receipts; nil means time.Now.
	Now func() time.Time
	// Rand is the source of Message-ID randomness; nil means crypto/rand.
	Rand io.Reader
	// DialContext opens the TCP connection; nil means a net.Dialer. The
	// Sender adds TLS itself for ImplicitTLS.
	DialContext func(ctx context.Context, network, address string) (net.Conn, error)
}

// Sender sends email over SMTP. It implements channel.Sender and
// channel.CapabilityReporter. Create one with New; it is safe for concurrent
// use, and each Send opens its own connection.
type Sender struct {
	cfg    Config
	port   int
	domain string
	from   *netmail.Address
	tls    *tls.Config
}

var (
	_ channel.Sender             = (*Sender)(nil)
	_ channel.CapabilityReporter = (*Sender)(nil)
)

// ErrConfig is matched by every configuration error New returns.
var ErrConfig = errors.New("invalid config")

// New validates cfg and returns a Sender. Errors match ErrConfig.
func New(cfg Config) (*Sender, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("email: %w: "+format, append([]any{ErrConfig}, a...)...)
	}
	if strings.TrimSpace(cfg.Host) == "" {
		return nil, bad("empty Host")
	}
	if cfg.Port < 0 || cfg.Port > 65535 {
		return nil, bad("port %d out of range", cfg.Port)
	}
	if cfg.TLS > NoTLS {
		return nil, bad("unknown TLS policy %d", cfg.TLS)
	}
	if cfg.Timeout < 0 {
		return nil, bad("negative Timeout")
	}
	if cfg.MaxAttachmentBytes < 0 {
		return nil, bad("negative MaxAttachmentBytes")
	}
	switch cfg.Auth {
	case AuthAuto, AuthNone, AuthPlain, AuthLogin, AuthCRAMMD5, AuthSCRAMSHA1, AuthSCRAMSHA256, AuthXOAUTH2:
	default:
		return nil, bad("unknown Auth mechanism %q", cfg.Auth)
	}
	if cfg.Auth != AuthAuto && cfg.Auth != AuthNone && cfg.Username == "" {
		return nil, bad("Auth %s needs a Username", cfg.Auth)
	}
	from, err := parseIdentity(cfg.From)
	if err != nil {
		return nil, bad("From: %v", err)
	}
	s := &Sender{cfg: cfg, from: from, port: cfg.Port}
	s.domain = cfg.MessageIDDomain
	if s.domain == "" {
		s.domain = from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	}
	if !validDomain(s.domain) {
		return nil, bad("Message-ID domain %q", s.domain)
	}
	if s.port == 0 {
		switch cfg.TLS {
		case ImplicitTLS:
			s.port = 465
		case NoTLS:
			s.port = 25
		default:
			s.port = 587
		}
	}
	if s.cfg.Timeout == 0 {
		s.cfg.Timeout = defaultTimeout
	}
	if s.cfg.Now == nil {
		s.cfg.Now = time.Now
	}
	if s.cfg.Rand == nil {
		s.cfg.Rand = rand.Reader
	}
	if cfg.TLSConfig != nil {
		s.tls = cfg.TLSConfig.Clone()
	} else {
		s.tls = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if s.tls.ServerName == "" {
		s.tls.ServerName = cfg.Host
	}
	return s, nil
}

func parseIdentity(id channel.Identity) (*netmail.Address, error) {
	a, err := netmail.ParseAddress(strings.TrimSpace(id.Address))
	if err != nil || !strings.Contains(a.Address, "@") {
		return nil, fmt.Errorf("address %q is not an email address", id.Address)
	}
	if a.Name == "" {
		a.Name = id.Name
	}
	return a, nil
}

func validDomain(d string) bool {
	if d == "" || len(d) > 253 {
		return false
	}
	for _, r := range d {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune("<>@\"\\[](),;:", r) {
			return false
		}
	}
	return true
}

// Capabilities returns the email capabilities (subject, HTML, attachments),
// with the attachment size limit of Config.MaxAttachmentBytes.
func (s *Sender) Capabilities() channel.Capabilities {
	c := channel.DefaultCapabilities(channel.Email)
	if s.cfg.MaxAttachmentBytes > 0 {
		c.Attachments.MaxBytes = s.cfg.MaxAttachmentBytes
	}
	return c
}

// invalidMessageError reports a message the Sender refuses before any
// network traffic. It matches channel.ErrInvalidMessage and
// channel.ErrPermanent.
type invalidMessageError struct{ reason string }

func (e *invalidMessageError) Error() string { return "email: invalid message: " + e.reason }

func (e *invalidMessageError) Unwrap() []error {
	return []error{channel.ErrInvalidMessage, channel.ErrPermanent}
}

// Send sends msg to msg.To over SMTP and returns a Receipt once the server
// accepted it (Status status.Validated). Receipt.ProviderID is the
// Message-ID of the sent message without angle brackets
// ("k3x…@mail.example.com"): the value replies name in In-Reply-To and
// References, which Parse returns in Inbound.InReplyTo.
//
// The message carries From (msg.From when it has an Address, else
// Config.From), To, Subject, Date, Message-ID, Reply-To (msg.ReplyTo) and,
// when msg.InReplyTo is set, In-Reply-To and References. Text and HTML go
// out as multipart/alternative; an HTML-only message gets a text part made
// from its HTML (blockquotes kept). Attachments need Data. When msg.Reference is set the
// Message-ID is derived from it, so a retried send carries the same
// Message-ID and receiving systems can discard the copy; otherwise it is
// random.
//
// msg.Kind must be channel.Email or zero. Metadata is not used. A message
// that cannot be sent as email (no valid recipient, blank subject
// (C2), no body (C3), a provider template, SendAt, an attachment without
// Data) fails with an error matching channel.ErrInvalidMessage and
// channel.ErrPermanent. SMTP refusals are *SMTPError (4xx transient, 5xx
// permanent); network failures before the message was transmitted match
// channel.ErrTransient; a connection lost while waiting for the final reply
// matches ErrDeliveryUnknown; TLS and certificate failures match
// channel.ErrPermanent. When ctx ends, Send closes the connection and
// returns an error matching ctx.Err().
func (s *Sender) Send(ctx context.Context, msg *channel.Message) (channel.Receipt, error) {
	if err := ctx.Err(); err != nil {
		return channel.Receipt{}, err
	}
	m, id, err := s.build(msg)
	if err != nil {
		return channel.Receipt{}, err
	}
	if err := s.transmit(ctx, m); err != nil {
		return channel.Receipt{}, err
	}
	return channel.Receipt{ProviderID: id, Status: status.Validated, At: s.cfg.Now()}, nil
}

// build validates msg and turns it into a go-mail message. It returns the
// Message-ID without angle brackets.
func (s *Sender) build(msg *channel.Message) (*mail.Msg, string, error) {
	if msg == nil {
		return nil, "", &invalidMessageError{"nil message"}
	}
	if msg.Kind != 0 && msg.Kind != channel.Email {
		return nil, "", &invalidMessageError{"kind " + msg.Kind.String() + " on the email channel"}
	}
	to, err := netmail.ParseAddress(strings.TrimSpace(msg.To))
	if err != nil || !strings.Contains(to.Address, "@") {
		return nil, "", &invalidMessageError{fmt.Sprintf("recipient %q is not an email address", msg.To)}
	}
	if strings.TrimSpace(msg.Subject) == "" {
		return nil, "", &invalidMessageError{"blank subject (C2)"}
	}
	if msg.Template != nil {
		return nil, "", &invalidMessageError{"provider templates are not supported by email; render the template first"}
	}
	if !msg.SendAt.IsZero() {
		return nil, "", &invalidMessageError{"SMTP cannot hold a message for later (SendAt); schedule it in the inbox"}
	}
	if strings.TrimSpace(msg.Text) == "" && strings.TrimSpace(msg.HTML) == "" && len(msg.Attachments) == 0 {
		return nil, "", &invalidMessageError{"no body (C3)"}
	}
	from := s.from
	if msg.From.Address != "" {
		if from, err = parseIdentity(msg.From); err != nil {
			return nil, "", &invalidMessageError{"From: " + err.Error()}
		}
	}
	id, err := s.messageID(msg.Reference)
	if err != nil {
		return nil, "", fmt.Errorf("email: message ID: %w", err)
	}

	m := mail.NewMsg(mail.WithNoDefaultUserAgent())
	m.FromMailAddress(from)
	m.ToMailAddress(to)
	if msg.ReplyTo != "" {
		rt, err := netmail.ParseAddress(strings.TrimSpace(msg.ReplyTo))
		if err != nil {
			return nil, "", &invalidMessageError{fmt.Sprintf("Reply-To %q is not an email address", msg.ReplyTo)}
		}
		m.ReplyToMailAddress(rt)
	}
	m.Subject(singleLine(msg.Subject))
	m.SetDateWithValue(s.cfg.Now())
	m.SetMessageIDWithValue(id)
	if ref := strings.Trim(strings.TrimSpace(msg.InReplyTo), "<>"); ref != "" {
		if strings.ContainsAny(ref, "<> \t\r\n") {
			return nil, "", &invalidMessageError{fmt.Sprintf("InReplyTo %q is not a message ID", msg.InReplyTo)}
		}
		m.SetGenHeader(mail.HeaderInReplyTo, "<"+ref+">")
		m.SetGenHeader(mail.HeaderReferences, "<"+ref+">")
	}
	m.SetUserAgent("Parley")

	text := msg.Text
	if strings.TrimSpace(text) == "" && strings.TrimSpace(msg.HTML) != "" {
		text = htmlToText(msg.HTML, false)
	}
	m.SetBodyString(mail.TypeTextPlain, text)
	if strings.TrimSpace(msg.HTML) != "" {
		m.AddAlternativeString(mail.TypeTextHTML, msg.HTML)
	}
	for i, a := range msg.Attachments {
		if len(a.Data) == 0 {
			return nil, "", &invalidMessageError{fmt.Sprintf("attachment %d (%q) has no Data; email cannot send a URL", i, a.Name)}
		}
		ct := a.DetectedType()
		if a.ContentType != "" {
			// Email carries the declared type (text/calendar, say), which
			// sniffing cannot tell from text/plain.
			ct = a.ContentType
		}
		if ct == "" {
			ct = string(mail.TypeAppOctetStream)
		}
		name := singleLine(a.Name)
		if name == "" {
			name = "attachment-" + strconv.Itoa(i+1)
		}
		if err := m.AttachReader(name, bytes.NewReader(a.Data), mail.WithFileContentType(mail.ContentType(ct))); err != nil {
			return nil, "", &invalidMessageError{fmt.Sprintf("attachment %d (%q): %v", i, a.Name, err)}
		}
	}
	return m, id, nil
}

// singleLine removes line breaks, which have no place in a header.
func singleLine(s string) string {
	return strings.Join(strings.Fields(strings.NewReplacer("\r", " ", "\n", " ").Replace(s)), " ")
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// messageID returns "token@domain": derived from the caller's reference
// when there is one, random otherwise.
func (s *Sender) messageID(reference string) (string, error) {
	var sum []byte
	if reference != "" {
		h := sha256.Sum256([]byte("parley/email/message-id\x00" + s.domain + "\x00" + reference))
		sum = h[:]
	} else {
		sum = make([]byte, 16)
		if _, err := io.ReadFull(s.cfg.Rand, sum); err != nil {
			return "", err
		}
	}
	tok := strings.ToLower(idEncoding.EncodeToString(sum))
	return tok[:messageIDTokenLen] + "@" + s.domain, nil
}

// transmit opens a connection, sends m and closes the connection. ctx ends
// the whole exchange: when it is done the connection is closed under the
// client's feet and the error matches ctx.Err().
func (s *Sender) transmit(ctx context.Context, m *mail.Msg) error {
	var (
		mu        sync.Mutex
		conn      net.Conn
		cancelled bool
	)
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		cancelled = true
		if conn != nil {
			_ = conn.Close()
		}
		mu.Unlock()
	})
	defer stop()
	dial := func(dctx context.Context, network, addr string) (net.Conn, error) {
		var raw net.Conn
		var err error
		if s.cfg.DialContext != nil {
			raw, err = s.cfg.DialContext(dctx, network, addr)
		} else {
			var d net.Dialer
			raw, err = d.DialContext(dctx, network, addr)
		}
		if err != nil {
			return nil, err
		}
		mu.Lock()
		if cancelled {
			mu.Unlock()
			_ = raw.Close()
			return nil, ctx.Err()
		}
		conn = raw
		mu.Unlock()
		if s.cfg.TLS != ImplicitTLS {
			return raw, nil
		}
		tc := tls.Client(raw, s.tls)
		if err := tc.HandshakeContext(dctx); err != nil {
			_ = raw.Close()
			return nil, &tlsError{err}
		}
		return tc, nil
	}

	opts := []mail.Option{
		mail.WithPort(s.port),
		mail.WithTimeout(s.cfg.Timeout),
		mail.WithDialContextFunc(dial),
		mail.WithoutNoop(),
		mail.WithoutRset(),
	}
	if s.cfg.HELO != "" {
		opts = append(opts, mail.WithHELO(s.cfg.HELO))
	}
	switch s.cfg.TLS {
	case StartTLSRequired:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory), mail.WithTLSConfig(s.tls))
	case StartTLSOpportunistic:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic), mail.WithTLSConfig(s.tls))
	case ImplicitTLS:
		// The dial function speaks TLS; go-mail must not try STARTTLS.
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	case NoTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	}
	if s.cfg.Username != "" && s.cfg.Auth != AuthNone {
		opts = append(opts, mail.WithSMTPAuthCustom(&autoAuth{
			mech: s.cfg.Auth, user: s.cfg.Username, pass: s.cfg.Password, host: s.cfg.Host,
		}))
	}
	client, err := mail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return fmt.Errorf("email: %w: %v", ErrConfig, err)
	}
	sc, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		mu.Lock()
		if conn != nil {
			_ = conn.Close()
		}
		mu.Unlock()
		return s.classify(ctx, err, "dial")
	}
	err = client.SendWithSMTPClient(sc, m)
	_ = client.CloseWithSMTPClient(sc) // QUIT; its failure changes nothing once the reply came
	mu.Lock()
	if conn != nil {
		_ = conn.Close()
	}
	mu.Unlock()
	if m.IsDelivered() {
		return nil
	}
	if err == nil {
		return fmt.Errorf("%w: the server gave no final reply", ErrDeliveryUnknown)
	}
	return s.classify(ctx, err, "")
}

// tlsError marks a TLS handshake failure (certificate, protocol): a
// configuration problem a retry does not fix.
type tlsError struct{ err error }

func (e *tlsError) Error() string { return "tls handshake: " + e.err.Error() }
func (e *tlsError) Unwrap() error { return e.err }

// classify turns a go-mail error into one of the Sender's documented errors.
func (s *Sender) classify(ctx context.Context, err error, stage string) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("email: send: %w", cerr)
	}
	var se *mail.SendError
	if errors.As(err, &se) {
		stage = sendStage(se.Reason)
		if code := se.ErrorCode(); code >= 400 && code < 600 {
			e := newSMTPError(code, replyText(se.Error(), code), stage)
			if esc := se.EnhancedStatusCode(); esc != "" && e.EnhancedCode == "" {
				e.EnhancedCode = esc
			}
			return e
		}
		if se.Reason == mail.ErrSMTPDataClose {
			return fmt.Errorf("%w: connection lost awaiting the final reply: %v", ErrDeliveryUnknown, err)
		}
	} else if e, ok := smtpErrorFrom(err, stage); ok {
		if strings.Contains(err.Error(), "AUTH") {
			e.Stage = "auth"
		}
		return e
	}
	var te *tlsError
	var ce *tls.CertificateVerificationError
	var rh tls.RecordHeaderError
	switch {
	case errors.As(err, &te), errors.As(err, &ce), errors.As(err, &rh),
		strings.Contains(err.Error(), "STARTTLS"),
		errors.Is(err, mailsmtp.ErrUnencrypted), errors.Is(err, mailsmtp.ErrWrongHostname):
		return fmt.Errorf("email: send %s: %w: %v", stageOr(stage), channel.ErrPermanent, err)
	case isNetworkError(err):
		return fmt.Errorf("email: send %s: %w: %v", stageOr(stage), channel.ErrTransient, err)
	}
	return fmt.Errorf("email: send %s: %w: %v", stageOr(stage), channel.ErrPermanent, err)
}

func stageOr(stage string) string {
	if stage == "" {
		return "data"
	}
	return stage
}

func sendStage(r mail.SendErrReason) string {
	switch r {
	case mail.ErrSMTPMailFrom, mail.ErrGetSender:
		return "mail"
	case mail.ErrSMTPRcptTo, mail.ErrGetRcpts:
		return "rcpt"
	case mail.ErrConnCheck:
		return "dial"
	}
	return "data"
}

// replyText extracts the server's reply text for code from go-mail's
// error message ("…: 550 5.1.1 no such user, affected recipient(s): …").
func replyText(msg string, code int) string {
	i := strings.Index(msg, strconv.Itoa(code)+" ")
	if i < 0 {
		return msg
	}
	t := msg[i+4:]
	for _, cut := range []string{", affected recipient(s):", ", affected message ID:"} {
		if j := strings.Index(t, cut); j >= 0 {
			t = t[:j]
		}
	}
	return strings.TrimSpace(t)
}

func isNetworkError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// autoAuth is an smtp.Auth that picks its mechanism when the server has
// listed its own. A new one is made for every Send: SASL exchanges keep
// state.
type autoAuth struct {
	mech       AuthMechanism
	user, pass string
	host       string
	inner      mailsmtp.Auth
}

func (a *autoAuth) Start(server *mailsmtp.ServerInfo) (string, []byte, error) {
	mech := a.mech
	if mech == AuthAuto {
		mech = pickMechanism(server)
		if mech == "" {
			return "", nil, fmt.Errorf("email: no usable AUTH mechanism among %v", server.Auth)
		}
	}
	switch mech {
	case AuthPlain:
		a.inner = mailsmtp.PlainAuth("", a.user, a.pass, a.host, false)
	case AuthLogin:
		a.inner = mailsmtp.LoginAuth(a.user, a.pass, a.host, false)
	case AuthCRAMMD5:
		a.inner = mailsmtp.CRAMMD5Auth(a.user, a.pass)
	case AuthSCRAMSHA1:
		a.inner = mailsmtp.ScramSHA1Auth(a.user, a.pass)
	case AuthSCRAMSHA256:
		a.inner = mailsmtp.ScramSHA256Auth(a.user, a.pass)
	case AuthXOAUTH2:
		a.inner = mailsmtp.XOAuth2Auth(a.user, a.pass)
	default:
		return "", nil, fmt.Errorf("email: unknown AUTH mechanism %q", mech)
	}
	return a.inner.Start(server)
}

func (a *autoAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	if a.inner == nil {
		return nil, errors.New("email: AUTH exchange not started")
	}
	return a.inner.Next(fromServer, more)
}

func pickMechanism(server *mailsmtp.ServerInfo) AuthMechanism {
	offered := make(map[string]bool, len(server.Auth))
	for _, m := range server.Auth {
		offered[strings.ToUpper(m)] = true
	}
	secure := server.TLS || server.Name == "localhost" || server.Name == "127.0.0.1" || server.Name == "::1"
	for _, m := range []AuthMechanism{AuthSCRAMSHA256, AuthSCRAMSHA1, AuthPlain, AuthLogin, AuthCRAMMD5} {
		if !offered[string(m)] {
			continue
		}
		if (m == AuthPlain || m == AuthLogin) && !secure {
			continue
		}
		return m
	}
	return ""
}
