package email

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	netmail "net/mail"
	"strings"
)

const (
	// MinSecretBytes is the shortest secret ReplyAddress, the Parser and
	// the Handler accept.
	MinSecretBytes = 16
	replyMACBytes  = 10 // 80 bits: far beyond guessing by sending mail
	replyMACChars  = 16 // base32 of 10 bytes, no padding
)

var macEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// ReplyAddress returns the per-thread reply address for threadID: base's
// local part, "+", the thread ID, ".", and a token of 16 base32 characters
// (80 bits of HMAC-SHA256 of the thread ID under secret), at base's domain.
// For base "reply@in.example.com" and thread "th_42" it gives
// "reply+th_42.<token>@in.example.com". Send it as Message.ReplyTo; replies
// come back to it and Parse routes them to the thread (Inbound.ThreadToken).
// The mail server must deliver plus-addressed mail to the base mailbox.
//
// Letters, digits, '_' and '-' of the thread ID are kept as they are; any
// other byte is written "=XX" (hex) so the address stays valid. A mail
// system that lowercases local parts breaks the token of a thread ID with
// capitals; Parse then falls back to In-Reply-To and References.
//
// RFC 5321 limits a local part to 64 characters: with a base local part
// of 5 ("reply") that leaves 41 for the thread ID as encoded; longer
// addresses work with most mail servers but not all.
//
// The token cannot be guessed or moved to another thread without the
// secret, which must be at least MinSecretBytes long. Errors match ErrConfig
// (short secret, base that is not an address, empty thread ID).
func ReplyAddress(secret []byte, base string, threadID string) (string, error) {
	if len(secret) < MinSecretBytes {
		return "", fmt.Errorf("email: reply address: %w: secret shorter than %d bytes", ErrConfig, MinSecretBytes)
	}
	if threadID == "" {
		return "", fmt.Errorf("email: reply address: %w: empty thread ID", ErrConfig)
	}
	a, err := netmail.ParseAddress(strings.TrimSpace(base))
	if err != nil {
		return "", fmt.Errorf("email: reply address: %w: base %q: %v", ErrConfig, base, err)
	}
	at := strings.LastIndexByte(a.Address, '@')
	if at <= 0 || at == len(a.Address)-1 {
		return "", fmt.Errorf("email: reply address: %w: base %q has no local part or domain", ErrConfig, base)
	}
	return a.Address[:at] + "+" + encodeThreadID(threadID) + "." + replyMAC(secret, threadID) + a.Address[at:], nil
}

// ParseReplyAddress verifies a per-thread reply address made by
// ReplyAddress with the same secret and returns its thread ID. addr may
// carry a display name ("Studio <reply+…@…>"). The token is compared in
// constant time. An address without a "+tag" gives an error matching
// ErrNoReplyToken; a tag that is malformed or does not verify (forged,
// altered, another thread's token, another secret) gives one matching
// ErrBadReplyToken.
func ParseReplyAddress(secret []byte, addr string) (threadID string, err error) {
	if len(secret) < MinSecretBytes {
		return "", fmt.Errorf("email: reply address: %w: secret shorter than %d bytes", ErrConfig, MinSecretBytes)
	}
	a := strings.TrimSpace(addr)
	if p, perr := netmail.ParseAddress(a); perr == nil {
		a = p.Address
	} else {
		a = strings.Trim(a, "<>")
	}
	at := strings.LastIndexByte(a, '@')
	if at < 0 {
		return "", fmt.Errorf("%w: %q", ErrNoReplyToken, addr)
	}
	local := a[:at]
	plus := strings.LastIndexByte(local, '+')
	if plus < 0 {
		return "", fmt.Errorf("%w: %q", ErrNoReplyToken, addr)
	}
	tag := local[plus+1:]
	dot := strings.LastIndexByte(tag, '.')
	if dot < 0 {
		return "", fmt.Errorf("%w: %q", ErrNoReplyToken, addr)
	}
	enc, mac := tag[:dot], tag[dot+1:]
	if len(mac) != replyMACChars || enc == "" {
		return "", fmt.Errorf("%w: %q", ErrBadReplyToken, addr)
	}
	got, derr := macEncoding.DecodeString(strings.ToUpper(mac))
	if derr != nil || len(got) != replyMACBytes {
		return "", fmt.Errorf("%w: %q", ErrBadReplyToken, addr)
	}
	id, ok := decodeThreadID(enc)
	if !ok {
		return "", fmt.Errorf("%w: %q", ErrBadReplyToken, addr)
	}
	want := replyMACRaw(secret, id)
	if !hmac.Equal(got, want) {
		return "", fmt.Errorf("%w: %q", ErrBadReplyToken, addr)
	}
	return id, nil
}

func replyMACRaw(secret []byte, threadID string) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte("parley/email/reply-address\x00"))
	h.Write([]byte(threadID))
	return h.Sum(nil)[:replyMACBytes]
}

func replyMAC(secret []byte, threadID string) string {
	return strings.ToLower(macEncoding.EncodeToString(replyMACRaw(secret, threadID)))
}

const hexDigits = "0123456789ABCDEF"

func plainIDByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

func encodeThreadID(id string) string {
	var b strings.Builder
	for i := 0; i < len(id); i++ {
		c := id[i]
		if plainIDByte(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('=')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// decodeThreadID reverses encodeThreadID, accepting only its canonical
// output.
func decodeThreadID(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if plainIDByte(c) {
			b.WriteByte(c)
			continue
		}
		if c != '=' || i+2 >= len(s) {
			return "", false
		}
		hi := strings.IndexByte(hexDigits, upper(s[i+1]))
		lo := strings.IndexByte(hexDigits, upper(s[i+2]))
		if hi < 0 || lo < 0 {
			return "", false
		}
		b.WriteByte(byte(hi<<4 | lo))
		i += 2
	}
	id := b.String()
	if id == "" || !strings.EqualFold(encodeThreadID(id), s) {
		return "", false
	}
	return id, true
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}
