package whatsapp_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/parleyhq/parley/channel/whatsapp"
)

func seedBodies(f *testing.F) [][]byte {
	var out [][]byte
	for _, name := range []string{"text.json", "statuses.json", "kinds.json"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return append(out, []byte(`{}`), []byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":null}]}]}`),
		[]byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[{"id":"w","from":"1","timestamp":99999999999999,"type":"interactive","interactive":{}}]}}]}]}`))
}

// FuzzVerifySignature: any header and body are verified without panic, and
// only the exact signature of the body passes.
func FuzzVerifySignature(f *testing.F) {
	f.Add("secret", []byte("body"), "sha256=0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914")
	f.Add("", []byte{}, "")
	f.Add("k", []byte(`{"object":"whatsapp_business_account"}`), "sha256=zz")
	f.Fuzz(func(t *testing.T, secret string, body []byte, header string) {
		err := whatsapp.VerifySignature(secret, body, header)
		if err != nil && !errors.Is(err, whatsapp.ErrBadSignature) {
			t.Fatalf("untyped error %v", err)
		}
		if err == nil && strings.ToLower(strings.TrimSpace(header)) != whatsapp.Signature(secret, body) {
			t.Fatalf("header %q accepted for a body whose signature is %q", header, whatsapp.Signature(secret, body))
		}
		if secret != "" {
			if err := whatsapp.VerifySignature(secret, body, whatsapp.Signature(secret, body)); err != nil {
				t.Fatalf("own signature refused: %v", err)
			}
		}
	})
}

// FuzzParseNotification: any body parses or fails with ErrMalformed, never
// panics, and every parsed item carries its provider ID.
func FuzzParseNotification(f *testing.F) {
	for _, b := range seedBodies(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		n, err := whatsapp.ParseNotification(body)
		if err != nil {
			if !errors.Is(err, whatsapp.ErrMalformed) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		for _, in := range n.Inbound {
			if in.ProviderID == "" || in.From == "" {
				t.Fatalf("inbound without ID or sender: %+v", in)
			}
		}
		for _, u := range n.Statuses {
			if u.ProviderID == "" || !u.Status.Valid() {
				t.Fatalf("status without ID or valid status: %+v", u)
			}
		}
	})
}

// FuzzHandler: signed arbitrary bodies get 200 or 400, never a panic.
func FuzzHandler(f *testing.F) {
	for _, b := range seedBodies(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		h := newTestHandler(t, newStore(), nil)
		w := post(h, body, "")
		if w.Code != http.StatusOK && w.Code != http.StatusBadRequest && w.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("signed body answered %d", w.Code)
		}
		req := httptest.NewRequest(http.MethodPost, "/whatsapp", bytes.NewReader(body))
		req.Header.Set(whatsapp.SignatureHeader, "sha256=00")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusForbidden && rec.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("unsigned body answered %d", rec.Code)
		}
	})
}
