package fcm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/channel/fcm"
)

// The credentials are never shown: not by printing or logging a Config, nor
// a Sender, nor in an error, whatever goes wrong.
func TestCredentialsNeverShown(t *testing.T) {
	clk := &clock{t: t0}
	f := newFake(t, clk.Now)
	cfg := f.config(clk.Now)
	keyPEM := pemKey(testKey())
	head := []byte(cfg.CredentialsJSON)[:12]
	secretBits := []string{"PRIVATE KEY", strings.Split(keyPEM, "\n")[1][:40], "ya29.",
		strings.Trim(fmt.Sprintf("%d", head), "[]"), fmt.Sprintf("%x", head), fmt.Sprintf("%X", head)}
	check := func(what, out string) {
		t.Helper()
		for _, s := range secretBits {
			if strings.Contains(out, s) {
				t.Errorf("%s shows %q:\n%s", what, s, out)
			}
		}
	}
	check("fmt", fmt.Sprintf("%v %+v %#v %s %x %d %q", cfg, cfg, cfg, cfg.CredentialsJSON, cfg.CredentialsJSON, cfg.CredentialsJSON, cfg.CredentialsJSON))
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	log.Info("config", "cfg", cfg, "creds", cfg.CredentialsJSON)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("config", "creds", cfg.CredentialsJSON, "cfg", cfg)
	check("slog", logs.String())
	b, err := json.Marshal(map[string]any{"credentials": cfg.CredentialsJSON, "project": cfg.ProjectID})
	if err != nil {
		t.Fatal(err)
	}
	check("json", string(b))

	s, err := fcm.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(context.Background(), push(devToken)); err != nil {
		t.Fatal(err)
	}
	check("sender", fmt.Sprintf("%v %+v %#v %s", s, s, s, s))
	if s.String() != "fcm.Sender(project studio-lumiere)" {
		t.Errorf("String = %q", s)
	}

	// broken keys: the errors say what is wrong, never quote the key
	broken := strings.Replace(keyPEM, "\n", "\nAAAA", 3)
	for name, data := range map[string][]byte{
		"damaged key": credentialsWith(f, map[string]string{"private_key": broken}),
		"not JSON":    append([]byte(`{"private_key": "`+strings.ReplaceAll(keyPEM, "\n", `\n`)+`"`), '}', '}'),
	} {
		_, err := fcm.New(fcm.Config{CredentialsJSON: data})
		if !errors.Is(err, fcm.ErrConfig) {
			t.Errorf("%s: %v", name, err)
			continue
		}
		check(name, err.Error())
	}
	// a refusal of the token endpoint
	f.TokenReplyNext(reply{status: 401, body: `{"error":"invalid_client","error_description":"The OAuth client was not found."}`})
	s2, _ := fcm.New(cfg)
	_, err = s2.Send(context.Background(), push(devToken))
	if !errors.Is(err, fcm.ErrCredentials) {
		t.Fatal(err)
	}
	check("token refusal", err.Error()+fmt.Sprintf(" %+v", err))
}

// credentialsWith is the fake's key file with some fields changed.
func credentialsWith(f *fakeGoogle, set map[string]string) []byte {
	var m map[string]string
	_ = json.Unmarshal(credentials(f.srv.URL+"/token", testKey()), &m)
	for k, v := range set {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return b
}

// New refuses a configuration it cannot work with, with ErrConfig, before
// any request; the key may come from a file.
func TestConfig(t *testing.T) {
	clk := &clock{t: t0}
	f := newFake(t, clk.Now)
	good := f.config(clk.Now)
	dir := t.TempDir()
	path := filepath.Join(dir, "service-account.json")
	if err := os.WriteFile(path, good.CredentialsJSON, 0o600); err != nil {
		t.Fatal(err)
	}
	fromFile := good
	fromFile.CredentialsJSON, fromFile.CredentialsFile = nil, path
	s, err := fcm.New(fromFile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(context.Background(), push(devToken)); err != nil {
		t.Fatalf("key read from a file: %v", err)
	}
	otherProject := good
	otherProject.ProjectID = "other-project"
	if s, err := fcm.New(otherProject); err != nil || s.String() != "fcm.Sender(project other-project)" {
		t.Errorf("ProjectID overrides the key's: %v %v", s, err)
	}

	bad := map[string]fcm.Config{
		"no credentials":   {BaseURL: f.srv.URL},
		"missing file":     {CredentialsFile: filepath.Join(dir, "nope.json")},
		"user credentials": {CredentialsJSON: []byte(`{"type":"authorized_user","client_id":"x","client_secret":"y","refresh_token":"z"}`)},
		"no email":         {CredentialsJSON: credentialsWith(f, map[string]string{"client_email": ""})},
		"no key":           {CredentialsJSON: credentialsWith(f, map[string]string{"private_key": ""})},
		"bad token_uri":    {CredentialsJSON: credentialsWith(f, map[string]string{"token_uri": "ftp://x"})},
		"no project":       {CredentialsJSON: credentialsWith(f, map[string]string{"project_id": ""})},
		"bad project":      {CredentialsJSON: good.CredentialsJSON, ProjectID: "Studio/../x"},
		"bad base URL":     {CredentialsJSON: good.CredentialsJSON, BaseURL: "fcm.googleapis.com"},
		"negative TTL":     {CredentialsJSON: good.CredentialsJSON, TTL: -1},
		"TTL over 4 weeks": {CredentialsJSON: good.CredentialsJSON, TTL: fcm.MaxTTL + 1},
		"bad priority":     {CredentialsJSON: good.CredentialsJSON, Priority: 7},
		"JSON array":       {CredentialsJSON: []byte(`[1,2]`)},
	}
	for name, cfg := range bad {
		if _, err := fcm.New(cfg); !errors.Is(err, fcm.ErrConfig) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if f.Issued() != 1 {
		t.Errorf("issued %d tokens: New makes no request", f.Issued())
	}
	caps := s.Capabilities()
	if !caps.SubjectRequired || caps.ReadReceipts || caps.Attachments.MaxCount != 0 {
		t.Errorf("capabilities %+v", caps)
	}
}
