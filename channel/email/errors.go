package email

import (
	"errors"
	"fmt"
	"net/textproto"
	"strconv"
	"strings"

	"github.com/parleyhq/parley/channel"
)

// Errors that callers branch on with errors.Is.
var (
	// ErrDeliveryUnknown marks a send whose connection broke after the whole
	// message had been transmitted but before the server's final reply: the
	// server may or may not have accepted it. It matches neither
	// channel.ErrTransient nor channel.ErrPermanent, so channel.Retryable
	// reports false and the message is not sent twice blindly.
	ErrDeliveryUnknown = errors.New("email: delivery outcome unknown")
	// ErrNoReplyToken reports an address that is not a per-thread reply
	// address (no "+token" in its local part).
	ErrNoReplyToken = errors.New("email: not a reply address")
	// ErrBadReplyToken reports a per-thread reply address whose token does not
	// verify: forged, altered or made with another secret.
	ErrBadReplyToken = errors.New("email: reply address token does not verify")
	// ErrBadSignature reports an inbound webhook request whose signature
	// header is missing, malformed, outside the time tolerance, or wrong.
	ErrBadSignature = errors.New("email: bad webhook signature")
	// ErrMalformed reports raw email that cannot be parsed as an RFC 5322
	// message, or a webhook body that carries none.
	ErrMalformed = errors.New("email: malformed message")
	// ErrTooLarge reports raw email larger than the configured limit.
	ErrTooLarge = errors.New("email: message too large")
)

// SMTPError is an SMTP server's refusal: a reply with a 4xx or 5xx code. It
// matches channel.ErrTransient (4xx, a retry may help) or
// channel.ErrPermanent (5xx) with errors.Is; read the code with errors.As.
type SMTPError struct {
	// Code is the three-digit SMTP reply code (421, 450, 550, …).
	Code int
	// EnhancedCode is the RFC 3463 enhanced status code ("5.1.1") when the
	// server sent one, else "".
	EnhancedCode string
	// Message is the server's reply text.
	Message string
	// Stage is the step that failed: "dial", "auth", "mail", "rcpt", "data".
	Stage string
}

// Error gives the SMTP stage, reply code and server text.
func (e *SMTPError) Error() string {
	return fmt.Sprintf("email: smtp %s: %d %s", e.Stage, e.Code, e.Message)
}

// Temporary reports whether the reply is a 4xx (transient) one.
func (e *SMTPError) Temporary() bool { return e.Code >= 400 && e.Code < 500 }

// Unwrap returns channel.ErrTransient for a 4xx reply and
// channel.ErrPermanent otherwise.
func (e *SMTPError) Unwrap() error {
	if e.Temporary() {
		return channel.ErrTransient
	}
	return channel.ErrPermanent
}

// smtpErrorFrom finds an SMTP reply in err's chain (a *textproto.Error, as
// the client reports server replies) and builds an *SMTPError from it.
func smtpErrorFrom(err error, stage string) (*SMTPError, bool) {
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 400 && te.Code < 600 {
		return newSMTPError(te.Code, te.Msg, stage), true
	}
	// Some failures carry the reply only as text ("550 5.1.1 no such user").
	msg := err.Error()
	for _, f := range []string{msg, lastColonPart(msg)} {
		f = strings.TrimSpace(f)
		if len(f) >= 3 && (f[0] == '4' || f[0] == '5') && (len(f) == 3 || f[3] == ' ' || f[3] == '-') {
			if code, cerr := strconv.Atoi(f[:3]); cerr == nil {
				return newSMTPError(code, strings.TrimSpace(f[3:]), stage), true
			}
		}
	}
	return nil, false
}

func lastColonPart(s string) string {
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}

func newSMTPError(code int, msg, stage string) *SMTPError {
	e := &SMTPError{Code: code, Message: msg, Stage: stage}
	// An enhanced code leads the text: "5.1.1 <x@y>: Recipient address rejected".
	if f, rest, _ := strings.Cut(msg, " "); isEnhancedCode(f) {
		e.EnhancedCode = f
		e.Message = strings.TrimSpace(rest)
	}
	return e
}

func isEnhancedCode(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || (parts[0] != "2" && parts[0] != "4" && parts[0] != "5") {
		return false
	}
	for _, p := range parts[1:] {
		if p == "" || len(p) > 3 {
			return false
		}
		for _, r := range p {
			if r < '0' || r > '9' {
				return false
			}
		}
	}
	return true
}
