package email

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	netmail "net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	message "github.com/emersion/go-message"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"

	"github.com/parleyhq/parley/channel"
)

const (
	// DefaultMaxMessageBytes is the default size limit of one raw inbound
	// message: 25 MiB, the common attachment limit of mail providers.
	DefaultMaxMessageBytes = 25 << 20
	maxParts               = 256
	maxDepth               = 16
)

// Parser parses raw inbound email (RFC 5322, MIME) into channel.Inbound. The
// zero value is ready to use and verifies no reply addresses. Set its fields
// before the first Parse and leave them alone afterwards; it is then safe
// for concurrent use.
type Parser struct {
	// ReplySecrets verify per-thread reply addresses (ReplyAddress). The
	// first is the current secret; later ones are older secrets still
	// accepted while replies to mail sent with them come in (rotation).
	// Secrets shorter than MinSecretBytes are ignored.
	ReplySecrets [][]byte
	// MaxBytes is the size limit of a raw message; zero means
	// DefaultMaxMessageBytes.
	MaxBytes int64
	// Now is the clock used for ReceivedAt when no Received header dates
	// the message; nil means time.Now.
	Now func() time.Time
}

// Parse parses a raw message with the zero Parser: see Parser.Parse. It
// never sets Inbound.ThreadToken.
func Parse(r io.Reader) (channel.Inbound, error) {
	var p Parser
	return p.Parse(r)
}

var msgIDRE = regexp.MustCompile(`<([^<>\s]+)>`)

// Parse reads a raw RFC 5322 message and returns it as a channel.Inbound of
// kind channel.Email:
//
//   - From and Name from the From header; To is the first To address;
//     Subject decoded from RFC 2047 encoded words.
//   - Text is the first text/plain part that is not an attachment, or, when
//     there is none, the first text/html part converted with HTMLToText;
//     quoted history and signature are stripped (StripQuoted). HTML is the
//     text/html part as it came. Transfer encodings (base64,
//     quoted-printable) and charsets (ISO-8859-1, Windows-1252,
//     ISO-2022-JP, …) are decoded to UTF-8.
//   - Attachments are the other leaf parts (Data, Name, ContentType),
//     forwarded messages (message/rfc822) included.
//   - ProviderID is the Message-ID without angle brackets; a message
//     without one gets "sha256:" and 32 hex digits of the hash of its raw
//     bytes, so a second delivery of the same bytes still deduplicates (M5).
//   - InReplyTo lists the In-Reply-To IDs and then the References IDs,
//     newest first, without brackets or repeats: the ProviderIDs of the
//     Receipts of the messages it answers.
//   - ThreadToken is the thread ID of the first verified per-thread reply
//     address among To, Cc, Delivered-To, X-Original-To and Envelope-To.
//   - ReceivedAt is the date of the topmost Received header (when the
//     platform's mail server took the message), else p.Now().
//
// A message over MaxBytes gives an error matching ErrTooLarge; one that
// has no header block or no From address gives one matching ErrMalformed.
func (p *Parser) Parse(r io.Reader) (channel.Inbound, error) {
	limit := p.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxMessageBytes
	}
	raw, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return channel.Inbound{}, fmt.Errorf("email: parse: read: %w", err)
	}
	if int64(len(raw)) > limit {
		return channel.Inbound{}, fmt.Errorf("%w: over %d bytes", ErrTooLarge, limit)
	}
	ent, readErr := message.Read(bytes.NewReader(raw))
	if readErr != nil && !message.IsUnknownCharset(readErr) && !message.IsUnknownEncoding(readErr) {
		return channel.Inbound{}, fmt.Errorf("%w: header: %v", ErrMalformed, readErr)
	}
	h := ent.Header
	from := parseAddressList(h.Get("From"))
	if len(from) == 0 {
		return channel.Inbound{}, fmt.Errorf("%w: no From address", ErrMalformed)
	}
	in := channel.Inbound{
		Kind:    channel.Email,
		From:    from[0].Address,
		Name:    from[0].Name,
		Subject: decodeHeader(h.Get("Subject")),
	}
	if to := parseAddressList(h.Get("To")); len(to) > 0 {
		in.To = to[0].Address
	}
	if ids := msgIDRE.FindStringSubmatch(h.Get("Message-Id")); ids != nil {
		in.ProviderID = ids[1]
	} else if id := strings.TrimSpace(h.Get("Message-Id")); id != "" && !strings.ContainsAny(id, " \t<>") {
		in.ProviderID = id
	} else {
		sum := sha256.Sum256(raw)
		in.ProviderID = "sha256:" + hex.EncodeToString(sum[:16])
	}
	in.InReplyTo = threadIDs(h.Get("In-Reply-To"), h.Get("References"))
	in.ThreadToken = p.threadToken(h)
	in.ReceivedAt = p.receivedAt(h)

	var text, htmlBody string
	var haveText, haveHTML bool
	parts := 0
	werr := ent.Walk(func(path []int, part *message.Entity, perr error) error {
		if perr != nil && !message.IsUnknownCharset(perr) && !message.IsUnknownEncoding(perr) {
			return perr
		}
		parts++
		if parts > maxParts || len(path) > maxDepth {
			return errStopWalk
		}
		mt, params, cerr := part.Header.ContentType()
		if cerr != nil || mt == "" {
			mt, params = "text/plain", map[string]string{}
		}
		if strings.HasPrefix(mt, "multipart/") {
			return nil
		}
		disp, dparams, _ := part.Header.ContentDisposition()
		name := decodeHeader(dparams["filename"])
		if name == "" {
			name = decodeHeader(params["name"])
		}
		isAttachment := disp == "attachment" || (mt != "text/plain" && mt != "text/html") || (name != "" && disp != "inline")
		body, rerr := io.ReadAll(part.Body)
		if rerr != nil && len(body) == 0 {
			return rerr
		}
		if !isAttachment {
			// The root entity's charset error came from message.Read.
			cerr := perr
			if path == nil {
				cerr = readErr
			}
			s := toUTF8(body, params["charset"], message.IsUnknownCharset(cerr))
			switch {
			case mt == "text/plain" && !haveText:
				text, haveText = s, true
				return nil
			case mt == "text/html" && !haveHTML:
				htmlBody, haveHTML = s, true
				return nil
			}
		}
		if name == "" {
			name = fmt.Sprintf("part-%d", parts)
		}
		in.Attachments = append(in.Attachments, channel.Attachment{Name: name, ContentType: mt, Data: body})
		return nil
	})
	if werr != nil && !errors.Is(werr, errStopWalk) && !haveText && !haveHTML {
		return channel.Inbound{}, fmt.Errorf("%w: body: %v", ErrMalformed, werr)
	}
	in.HTML = htmlBody
	if haveText && strings.TrimSpace(text) != "" {
		in.Text = StripQuoted(text)
	} else if haveHTML {
		in.Text = StripQuoted(HTMLToText(htmlBody))
	}
	return in, nil
}

var errStopWalk = errors.New("email: stop walk")

func (p *Parser) threadToken(h message.Header) string {
	if len(p.ReplySecrets) == 0 {
		return ""
	}
	for _, key := range []string{"To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To"} {
		for _, v := range h.Values(key) {
			for _, a := range parseAddressList(v) {
				for _, secret := range p.ReplySecrets {
					if len(secret) < MinSecretBytes {
						continue
					}
					if id, err := ParseReplyAddress(secret, a.Address); err == nil {
						return id
					}
				}
			}
		}
	}
	return ""
}

func (p *Parser) receivedAt(h message.Header) time.Time {
	if rcv := h.Get("Received"); rcv != "" {
		if i := strings.LastIndexByte(rcv, ';'); i >= 0 {
			if t, err := netmail.ParseDate(strings.TrimSpace(rcv[i+1:])); err == nil {
				return t
			}
		}
	}
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// threadIDs lists the message IDs of In-Reply-To, then those of References
// from the newest (last) to the oldest, without repeats.
func threadIDs(inReplyTo, references string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(id string) {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	for _, m := range msgIDRE.FindAllStringSubmatch(inReplyTo, 32) {
		add(m[1])
	}
	refs := msgIDRE.FindAllStringSubmatch(references, 256)
	for i := len(refs) - 1; i >= 0; i-- {
		add(refs[i][1])
	}
	return out
}

var wordDecoder = &mime.WordDecoder{CharsetReader: charsetReader}

// decodeHeader decodes RFC 2047 encoded words; undecodable input is kept.
func decodeHeader(s string) string {
	if s == "" {
		return ""
	}
	d, err := wordDecoder.DecodeHeader(s)
	if err != nil {
		d = s
	}
	return strings.ToValidUTF8(d, "\uFFFD")
}

// parseAddressList parses an address header leniently: a list that does
// not parse as a whole is parsed address by address, and a bare
// "user@host" is taken as is.
func parseAddressList(v string) []*netmail.Address {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	ap := netmail.AddressParser{WordDecoder: wordDecoder}
	if list, err := ap.ParseList(v); err == nil {
		return list
	}
	var out []*netmail.Address
	for _, f := range strings.Split(v, ",") {
		if a, err := ap.Parse(strings.TrimSpace(f)); err == nil {
			out = append(out, a)
		} else if m := msgIDRE.FindStringSubmatch(f); m != nil && strings.Contains(m[1], "@") {
			out = append(out, &netmail.Address{Address: m[1]})
		}
	}
	return out
}

// charsetReader converts from a named charset to UTF-8, without touching
// go-message's package-level CharsetReader.
func charsetReader(name string, r io.Reader) (io.Reader, error) {
	enc, err := lookupCharset(name)
	if err != nil {
		return nil, err
	}
	if enc == nil {
		return r, nil
	}
	return enc.NewDecoder().Reader(r), nil
}

// lookupCharset returns the encoding for a charset name; nil for UTF-8 and
// ASCII, which need no conversion.
func lookupCharset(name string) (encoding.Encoding, error) {
	n := strings.ToLower(strings.Trim(strings.TrimSpace(name), `"`))
	switch n {
	case "", "utf-8", "utf8", "us-ascii", "ascii":
		return nil, nil
	}
	if enc, err := ianaindex.MIME.Encoding(n); err == nil && enc != nil {
		return enc, nil
	}
	if enc, err := htmlindex.Get(n); err == nil && enc != nil {
		return enc, nil
	}
	return nil, fmt.Errorf("email: unknown charset %q", name)
}

// toUTF8 returns body as UTF-8 text. go-message has already converted it
// unless convert is set (the charset was unknown to go-message).
func toUTF8(body []byte, charset string, convert bool) string {
	if convert {
		if enc, err := lookupCharset(charset); err == nil && enc != nil {
			if out, err := enc.NewDecoder().Bytes(body); err == nil {
				body = out
			}
		}
	}
	if !utf8.Valid(body) {
		return strings.ToValidUTF8(string(body), "\uFFFD")
	}
	return string(body)
}
