package fcm

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/jwt"

	"github.com/parleyhq/parley/channel"
)

// Scope is the OAuth2 scope of the FCM HTTP v1 API.
const Scope = "https://www.googleapis.com/auth/firebase.messaging"

// DefaultTokenURL is Google's OAuth2 token endpoint, used when the service
// account key names none (its token_uri).
const DefaultTokenURL = "https://oauth2.googleapis.com/token"

// RefreshMargin is how long before its expiry a cached access token is
// replaced, so that no send goes out with a token about to expire.
const RefreshMargin = 5 * time.Minute

// maxLifetime bounds the lifetime a token endpoint may claim (Google's
// tokens last an hour).
const maxLifetime = 24 * time.Hour

const redacted = "[redacted]"

// Secret holds credentials: the JSON of a service account key. It prints,
// logs and marshals as "[redacted]" whatever the verb or handler, so that
// printing a Config never shows the key.
type Secret []byte

// Format implements fmt.Formatter: every verb prints "[redacted]".
func (Secret) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(redacted)) }

// String returns "[redacted]".
func (Secret) String() string { return redacted }

// GoString returns "fcm.Secret([redacted])".
func (Secret) GoString() string { return "fcm.Secret(" + redacted + ")" }

// LogValue implements slog.LogValuer: "[redacted]".
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText implements encoding.TextMarshaler (and so JSON): "[redacted]".
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// serviceAccount is the part of a service account key file the Sender uses.
type serviceAccount struct {
	Type         string `json:"type"`
	ProjectID    string `json:"project_id"`
	PrivateKeyID string `json:"private_key_id"`
	PrivateKey   string `json:"private_key"`
	ClientEmail  string `json:"client_email"`
	TokenURI     string `json:"token_uri"`
}

// parseServiceAccount reads and checks a service account key. Its errors
// never quote the key.
func parseServiceAccount(data []byte) (serviceAccount, error) {
	var sa serviceAccount
	if err := json.Unmarshal(data, &sa); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return sa, fmt.Errorf("fcm: %w: credentials are not JSON (syntax error at byte %d)", ErrConfig, se.Offset)
		}
		return sa, fmt.Errorf("fcm: %w: credentials are not a service account key", ErrConfig)
	}
	if sa.Type != "service_account" {
		return sa, fmt.Errorf("fcm: %w: credentials are of type %q, not a service account key", ErrConfig, sa.Type)
	}
	if strings.TrimSpace(sa.ClientEmail) == "" {
		return sa, fmt.Errorf("fcm: %w: service account key has no client_email", ErrConfig)
	}
	if _, err := rsaKey([]byte(sa.PrivateKey)); err != nil {
		return sa, fmt.Errorf("fcm: %w: service account %q: %v", ErrConfig, sa.ClientEmail, err)
	}
	if sa.TokenURI == "" {
		sa.TokenURI = DefaultTokenURL
	}
	if u, err := url.Parse(sa.TokenURI); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return sa, fmt.Errorf("fcm: %w: service account %q: token_uri is not an http(s) URL", ErrConfig, sa.ClientEmail)
	}
	return sa, nil
}

// rsaKey checks that pemKey is an RSA private key in PEM (PKCS #8 or
// PKCS #1), as the JWT source needs. The error says what is wrong without
// quoting the key.
func rsaKey(pemKey []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(pemKey)
	if block == nil {
		return nil, errors.New("private_key is not PEM")
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		if rk, ok := k.(*rsa.PrivateKey); ok {
			return rk, nil
		}
		return nil, errors.New("private_key is not an RSA key")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	return nil, errors.New("private_key is neither a PKCS #8 nor a PKCS #1 RSA key")
}

// token returns the Authorization header of a valid access token ("Bearer
// …"): the cached one while it is more than RefreshMargin from its expiry,
// else a fresh one from the token endpoint.
// One caller fetches at a time; the others wait for it (or their context)
// and take what it fetched.
func (s *Sender) token(ctx context.Context) (string, error) {
	if t, ok := s.cached(); ok {
		return t, nil
	}
	select {
	case s.fetching <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-s.fetching }()
	if t, ok := s.cached(); ok {
		return t, nil
	}
	t, lifetime, err := s.exchange(ctx)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.access = "Bearer " + t
	s.expiry = time.Time{}
	if lifetime > 0 {
		s.expiry = s.now().Add(lifetime)
	}
	auth := s.access
	s.mu.Unlock()
	return auth, nil
}

// cached returns the cached token if it is still good for RefreshMargin.
func (s *Sender) cached() (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.access == "" {
		return "", false
	}
	if !s.expiry.IsZero() && !s.now().Before(s.expiry.Add(-RefreshMargin)) {
		return "", false
	}
	return s.access, true
}

// invalidate drops auth from the cache (FCM refused it), unless another
// caller already replaced it.
func (s *Sender) invalidate(auth string) {
	s.mu.Lock()
	if s.access == auth {
		s.access, s.expiry = "", time.Time{}
	}
	s.mu.Unlock()
}

// exchange gets a new access token: golang.org/x/oauth2/jwt signs the
// assertion with the service account's key (RS256) and posts it to the
// token endpoint (the JWT bearer grant). It returns the token and its
// lifetime (zero when the endpoint gave none).
func (s *Sender) exchange(ctx context.Context) (string, time.Duration, error) {
	cfg := &jwt.Config{Email: s.account, PrivateKey: s.key, PrivateKeyID: s.keyID, Scopes: []string{Scope}, TokenURL: s.tokenURL}
	hc := *s.client
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	// the JWT source posts without a context: the transport gives it ours
	hc.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return base.RoundTrip(r.WithContext(ctx))
	})
	tok, err := cfg.TokenSource(context.WithValue(ctx, oauth2.HTTPClient, &hc)).Token()
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return "", 0, ctxErr
		}
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil {
			code := re.Response.StatusCode
			if code == http.StatusTooManyRequests || code >= 500 {
				return "", 0, fmt.Errorf("fcm: token exchange: HTTP %d: %w", code, channel.ErrTransient)
			}
			return "", 0, &CredentialsError{Account: s.account, Op: "token exchange", StatusCode: code, Reason: tokenReason(re.Body)}
		}
		return "", 0, fmt.Errorf("fcm: token exchange: %w: %v", channel.ErrTransient, err)
	}
	if tok.AccessToken == "" || (tok.TokenType != "" && !strings.EqualFold(tok.TokenType, "bearer")) {
		return "", 0, fmt.Errorf("fcm: token exchange: %w: response without a bearer token", channel.ErrTransient)
	}
	return tok.AccessToken, lifetime(tok), nil
}

// lifetime reads expires_in from the token response, so that the expiry is
// measured on the Sender's clock.
func lifetime(tok *oauth2.Token) time.Duration {
	var secs float64
	switch v := tok.Extra("expires_in").(type) {
	case float64:
		secs = v
	case json.Number:
		secs, _ = v.Float64()
	case string:
		secs, _ = strconv.ParseFloat(v, 64)
	}
	switch {
	case !(secs > 0): // also NaN
		return 0
	case secs >= maxLifetime.Seconds():
		return maxLifetime
	}
	return time.Duration(secs * float64(time.Second))
}

// tokenReason extracts the OAuth2 error of a token endpoint's refusal
// ("invalid_grant: Invalid JWT Signature.").
func tokenReason(body []byte) string {
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error == "" {
		return ""
	}
	r := e.Error
	if e.Description != "" {
		r += ": " + e.Description
	}
	return truncate(r)
}

// roundTripFunc adapts a function to http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
