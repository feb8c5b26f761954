package whatsapp_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/parleyhq/parley/channel/whatsapp"
)

// mediaServer answers GET /{version}/{media-id} with the media's metadata
// and serves the content at its temporary URL, both behind the bearer token.
func mediaServer(t *testing.T, content []byte, sum string, size int) *httptest.Server {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, graphError(190, 0, "OAuthException", "Invalid OAuth access token", "", false))
			return
		}
		switch r.URL.Path {
		case "/v23.0/1003383421387256":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"messaging_product":"whatsapp","url":"%s/whatsapp_business/attachments/?mid=1003383421387256&ext=1735689600","mime_type":"image/jpeg","sha256":"%s","file_size":%d,"id":"1003383421387256"}`,
				srv.URL, sum, size)
		case "/whatsapp_business/attachments/":
			w.Header().Set("Content-Type", "image/jpeg")
			_, _ = w.Write(content)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, graphError(100, 33, "GraphMethodException", "Unsupported get request.", "", false))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestFetchMedia(t *testing.T) {
	content := append([]byte{0xff, 0xd8, 0xff, 0xe0}, make([]byte, 100)...)
	sum := sha256.Sum256(content)
	srv := mediaServer(t, content, hex.EncodeToString(sum[:]), len(content))
	s, err := whatsapp.New(whatsapp.Config{AccessToken: testToken, PhoneNumberID: testPhoneID, BaseURL: srv.URL, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := whatsapp.MediaID(whatsapp.MediaURL("1003383421387256"))
	a, err := s.FetchMedia(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if string(a.Data) != string(content) || a.ContentType != "image/jpeg" || a.Size != int64(len(content)) {
		t.Errorf("attachment %q %d bytes, want the served content", a.ContentType, len(a.Data))
	}
	if _, err := s.FetchMedia(context.Background(), "999"); err == nil {
		t.Error("unknown media fetched")
	}
	if _, err := s.FetchMedia(context.Background(), "../me"); !errors.Is(err, whatsapp.ErrMedia) {
		t.Errorf("bad ID: error %v, want ErrMedia", err)
	}

	bad := mediaServer(t, content, hex.EncodeToString(make([]byte, 32)), len(content))
	s, _ = whatsapp.New(whatsapp.Config{AccessToken: testToken, PhoneNumberID: testPhoneID, BaseURL: bad.URL, HTTPClient: bad.Client()})
	if _, err := s.FetchMedia(context.Background(), id); !errors.Is(err, whatsapp.ErrMedia) {
		t.Errorf("checksum mismatch: error %v, want ErrMedia", err)
	}

	// C7: the size limit holds whether the metadata tells the truth or not.
	for _, declared := range []int{len(content), 10} {
		srv := mediaServer(t, content, hex.EncodeToString(sum[:]), declared)
		s, _ := whatsapp.New(whatsapp.Config{AccessToken: testToken, PhoneNumberID: testPhoneID, BaseURL: srv.URL, HTTPClient: srv.Client(), MaxMediaBytes: 50})
		if _, err := s.FetchMedia(context.Background(), id); !errors.Is(err, whatsapp.ErrMedia) {
			t.Errorf("declared %d: error %v, want ErrMedia for a %d-byte file over 50", declared, err, len(content))
		}
	}

	s, _ = whatsapp.New(whatsapp.Config{AccessToken: "wrong", PhoneNumberID: testPhoneID, BaseURL: srv.URL, HTTPClient: srv.Client()})
	if _, err := s.FetchMedia(context.Background(), id); !errors.Is(err, whatsapp.ErrAuth) {
		t.Errorf("wrong token: error %v, want ErrAuth", err)
	}
}
