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
	// MaxParts is how many MIME parts of a message are kept (multipart
	// containers counted); later attachments are dropped and the message is
	// marked channel.Inbound.Truncated. The text part is still looked for
	// among the first MaxScanParts parts.
	MaxParts = 256
	// MaxScanParts is how many MIME parts are read at most, looking for the
	// text part when it comes after MaxParts; the rest of the message is not
	// read, and the message is marked truncated.
	MaxScanParts = 16 * MaxParts
	// MaxDepth is how deep multipart parts are read; deeper parts are
	// skipped (their siblings are still read) and the message is marked
	// truncated.
	MaxDepth = 16
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
//   - Truncated is set when the body held more than could be parsed: parts
//     after MaxParts (attachments dropped; the text part is still looked
//     for up to MaxScanParts), parts nested deeper than MaxDepth (skipped,
//     their siblings kept), or a MIME structure that breaks off midway
//     (what came before it kept). The message is kept with what could be
//     read, even an empty text: it is never refused, nor stored empty
//     without saying so.
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

	w := walker{in: &in}
	if err := w.walk(ent, readErr, 0); err != nil {
		w.truncated = true
	}
	in.HTML = w.html
	if w.haveText && strings.TrimSpace(w.text) != "" {
		in.Text = StripQuoted(w.text)
	} else if w.haveHTML {
		in.Text = StripQuoted(HTMLToText(w.html))
	}
	in.Truncated = w.truncated
	return in, nil
}

// walker reads the MIME tree of a message: the first text/plain and
// text/html parts that are not attachments become its text and HTML, the
// other leaf parts its attachments.
type walker struct {
	in                 *channel.Inbound
	parts              int
	text, html         string
	haveText, haveHTML bool
	truncated          bool
}

// walk reads entity e, at depth (the root is 0), and its children. perr is
// the charset or encoding error e came with, if any. It returns errStopWalk
// when MaxScanParts is reached, or the error of a MIME structure that
// cannot be read on; everything read before is kept.
func (w *walker) walk(e *message.Entity, perr error, depth int) error {
	w.parts++
	if w.parts > MaxScanParts {
		return errStopWalk
	}
	mt, params, cerr := e.Header.ContentType()
	if cerr != nil || mt == "" {
		mt, params = "text/plain", map[string]string{}
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := e.MultipartReader()
		if mr == nil {
			return fmt.Errorf("%w: %s part that cannot be read", ErrMalformed, mt)
		}
		if depth >= MaxDepth {
			// Its parts would be deeper than MaxDepth: skipped whole, the
			// parent's reader moves past them to the next sibling.
			w.truncated = true
			return nil
		}
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				return nil
			}
			if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
				return err
			}
			if err := w.walk(part, err, depth+1); err != nil {
				return err
			}
		}
	}
	disp, dparams, _ := e.Header.ContentDisposition()
	name := decodeHeader(dparams["filename"])
	if name == "" {
		name = decodeHeader(params["name"])
	}
	isAttachment := disp == "attachment" || (mt != "text/plain" && mt != "text/html") || (name != "" && disp != "inline")
	wanted := !isAttachment && ((mt == "text/plain" && !w.haveText) || (mt == "text/html" && !w.haveHTML))
	if w.parts > MaxParts && !wanted {
		// past the limit only the text is still looked for
		w.truncated = true
		return nil
	}
	body, rerr := io.ReadAll(e.Body)
	if rerr != nil {
		// the part breaks off: what was read of it is kept
		w.truncated = true
		if len(body) == 0 {
			return rerr
		}
	}
	if wanted {
		s := toUTF8(body, params["charset"], message.IsUnknownCharset(perr))
		if mt == "text/plain" {
			w.text, w.haveText = s, true
		} else {
			w.html, w.haveHTML = s, true
		}
		return nil
	}
	if name == "" {
		name = fmt.Sprintf("part-%d", w.parts)
	}
	w.in.Attachments = append(w.in.Attachments, channel.Attachment{Name: name, ContentType: mt, Data: body})
	return nil
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
