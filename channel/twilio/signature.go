package twilio

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// SignatureHeader is the HTTP header in which Twilio sends the signature of
// a webhook request.
const SignatureHeader = "X-Twilio-Signature"

// Signature returns the X-Twilio-Signature Twilio computes for a request to
// rawURL carrying the POST parameters params, signed with authToken.
//
// The signed string is rawURL exactly as given, followed, for each parameter
// name in byte order, by each distinct value of that name in byte order,
// every one appended as name+value with no separator. A value repeated under
// one name is signed once, as Twilio's helper libraries compute it (their
// published vector signs Digits=5678, Digits=1234, Digits=1234 as Digits1234
// Digits5678). The signature is the standard base64 encoding of the
// HMAC-SHA1 of that string keyed with the auth token. params may be nil (a
// JSON webhook, or a GET); it is not modified.
func Signature(authToken, rawURL string, params url.Values) string {
	mac := hmac.New(sha1.New, []byte(authToken))
	writeSigned(mac, rawURL, params)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

type stringWriter interface{ Write([]byte) (int, error) }

func writeSigned(w stringWriter, rawURL string, params url.Values) {
	_, _ = w.Write([]byte(rawURL))
	if len(params) == 0 {
		return
	}
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	slices.Sort(names)
	var buf []byte
	for _, k := range names {
		vals := params[k]
		if len(vals) > 1 {
			vals = slices.Compact(slices.Sorted(slices.Values(vals)))
		}
		for _, v := range vals {
			buf = append(buf[:0], k...)
			buf = append(buf, v...)
			_, _ = w.Write(buf)
		}
	}
}

// VerifySignature checks that signature is the X-Twilio-Signature of a
// request to rawURL with the POST parameters params, signed with authToken.
// rawURL must be the full URL Twilio requested, query string included, as
// Twilio saw it (behind a proxy, the public URL, not the one the server
// received).
//
// Twilio signs the URL with or without an explicit port, so the signature is
// accepted when it matches rawURL as given, rawURL with its port removed
// (when it has one), or rawURL with the scheme's default port added (443 for
// https, 80 for http, when it has none) — and nothing else. Signatures are
// compared in constant time.
//
// It returns nil when the signature matches, else an error matching
// ErrBadSignature (also for an empty signature or auth token).
func VerifySignature(authToken, rawURL string, params url.Values, signature string) error {
	if authToken == "" {
		return fmt.Errorf("twilio: %w: empty auth token", ErrBadSignature)
	}
	if signature == "" {
		return fmt.Errorf("twilio: %w: no signature", ErrBadSignature)
	}
	ok := 0
	for _, u := range urlVariants(rawURL) {
		ok |= subtle.ConstantTimeCompare([]byte(Signature(authToken, u, params)), []byte(signature))
	}
	if ok != 1 {
		return fmt.Errorf("twilio: %w: signature does not match", ErrBadSignature)
	}
	return nil
}

// VerifySignatureWithBody checks the signature of a webhook whose body is not
// form-encoded (application/json). Twilio then adds a bodySHA256 query
// parameter, the lower-case hex SHA-256 of the raw body, to the URL and signs
// the URL alone. VerifySignatureWithBody checks both: that signature matches
// rawURL with no parameters (with the port variants of VerifySignature), and
// that bodySHA256 is the hash of body. A URL without bodySHA256 is refused.
//
// It returns nil when both hold, else an error matching ErrBadSignature.
func VerifySignatureWithBody(authToken, rawURL string, body []byte, signature string) error {
	want, err := bodyHashParam(rawURL)
	if err != nil {
		return err
	}
	sigErr := VerifySignature(authToken, rawURL, nil, signature)
	sum := sha256.Sum256(body)
	got := hex.EncodeToString(sum[:])
	hashOK := subtle.ConstantTimeCompare([]byte(got), []byte(strings.ToLower(want))) == 1
	if sigErr != nil {
		return sigErr
	}
	if !hashOK {
		return fmt.Errorf("twilio: %w: bodySHA256 does not match the body", ErrBadSignature)
	}
	return nil
}

// BodySHA256 returns the lower-case hex SHA-256 of body, the value Twilio
// puts in the bodySHA256 query parameter of a JSON webhook's URL.
func BodySHA256(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

func bodyHashParam(rawURL string) (string, error) {
	q := rawURL
	if i := strings.IndexByte(q, '#'); i >= 0 {
		q = q[:i]
	}
	i := strings.IndexByte(q, '?')
	if i < 0 {
		return "", fmt.Errorf("twilio: %w: URL has no bodySHA256 parameter", ErrBadSignature)
	}
	vals, err := url.ParseQuery(q[i+1:])
	if err != nil {
		return "", fmt.Errorf("twilio: %w: URL query: %v", ErrBadSignature, err)
	}
	h := vals.Get("bodySHA256")
	if h == "" {
		return "", fmt.Errorf("twilio: %w: URL has no bodySHA256 parameter", ErrBadSignature)
	}
	return h, nil
}

// urlVariants returns the URLs a signature may have been computed over: the
// URL as given, then without its port when it has one, or with the scheme's
// default port when it has none. The port is edited in the text of the URL,
// so the rest of it (escapes, query order) stays byte for byte as given.
func urlVariants(rawURL string) []string {
	out := []string{rawURL}
	p, ok := splitAuthority(rawURL)
	if !ok {
		return out
	}
	if p.hasPort {
		out = append(out, rawURL[:p.hostEnd]+rawURL[p.authEnd:])
		return out
	}
	var def string
	switch strings.ToLower(rawURL[:p.schemeEnd]) {
	case "https":
		def = ":443"
	case "http":
		def = ":80"
	default:
		return out
	}
	out = append(out, rawURL[:p.authEnd]+def+rawURL[p.authEnd:])
	return out
}

type authority struct {
	schemeEnd int  // index of "://"
	hostEnd   int  // end of the host (start of ":port" when hasPort)
	authEnd   int  // end of the authority
	hasPort   bool // an explicit ":digits" follows the host
}

// splitAuthority finds the host and port of an absolute URL
// "scheme://[userinfo@]host[:port][/path][?query][#fragment]".
func splitAuthority(rawURL string) (authority, bool) {
	var a authority
	i := strings.Index(rawURL, "://")
	if i <= 0 {
		return a, false
	}
	a.schemeEnd = i
	start := i + 3
	end := len(rawURL)
	if j := strings.IndexAny(rawURL[start:], "/?#"); j >= 0 {
		end = start + j
	}
	a.authEnd = end
	host := start
	if at := strings.LastIndexByte(rawURL[start:end], '@'); at >= 0 {
		host = start + at + 1
	}
	hp := rawURL[host:end]
	if hp == "" {
		return a, false
	}
	colon := strings.LastIndexByte(hp, ':')
	if colon < 0 || strings.IndexByte(hp[colon:], ']') >= 0 {
		a.hostEnd = end
		return a, true
	}
	port := hp[colon+1:]
	for _, c := range []byte(port) {
		if c < '0' || c > '9' {
			return a, false
		}
	}
	a.hostEnd = host + colon
	a.hasPort = true
	return a, true
}
