package twilio_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/parleyhq/parley/channel/twilio"
)

// Twilio's documented request-validation test vectors (auth token "12345"),
// as used by its helper libraries' own tests.
const (
	vecToken = "12345"
	vecURL   = "https://mycompany.com/myapp.php?foo=1&bar=2"
	vecSig   = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
	vecBody  = `{"property": "value", "boolean": true}`
	vecHash  = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
)

func vecParams() url.Values {
	return url.Values{
		"CallSid": {"CA1234567890ABCDE"},
		"Caller":  {"+14158675309"},
		"Digits":  {"1234"},
		"From":    {"+14158675309"},
		"To":      {"+18005551212"},
	}
}

func TestSignatureTwilioVectors(t *testing.T) {
	if got := twilio.Signature(vecToken, vecURL, vecParams()); got != vecSig {
		t.Fatalf("Signature = %q, want %q", got, vecSig)
	}
	p := vecParams()
	p.Set("Caller", "+14158675310")
	p.Set("From", "+14158675310")
	if got := twilio.Signature(vecToken, vecURL, p); got != "GvWf1cFY/Q7PnoempGyD5oXAezc=" {
		t.Fatalf("Signature = %q", got)
	}
	p.Set("Caller", "+12349013030")
	p.Set("From", "+12349013030")
	if got := twilio.Signature(vecToken, vecURL, p); got != "0/KCTR6DLpKmkAf8muzZqo1nDgQ=" {
		t.Fatalf("Signature = %q", got)
	}
}

func TestVerifySignaturePorts(t *testing.T) {
	cases := []struct {
		name, url, sig string
		ok             bool
	}{
		{"as given", vecURL, vecSig, true},
		{"https port removed", strings.Replace(vecURL, ".com", ".com:1234", 1), vecSig, true},
		{"https default port added", vecURL, "kvajT1Ptam85bY51eRf/AJRuM3w=", true},
		{"http default port added", strings.Replace(vecURL, "https", "http", 1), "0ZXoZLH/DfblKGATFgpif+LLRf4=", true},
		{"http explicit port as given", strings.Replace(strings.Replace(vecURL, ".com", ".com:1234", 1), "https", "http", 1), "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=", true},
		// Nothing looser: a signature over :443 does not cover another port,
		// nor over http's default port for an https URL.
		{"other port not swapped", strings.Replace(vecURL, ".com", ".com:8443", 1), "kvajT1Ptam85bY51eRf/AJRuM3w=", false},
		{"wrong default port", vecURL, twilio.Signature(vecToken, "https://mycompany.com:80/myapp.php?foo=1&bar=2", vecParams()), false},
		{"scheme not swapped", strings.Replace(vecURL, "https", "http", 1), vecSig, false},
		{"trailing slash differs", "https://mycompany.com/myapp.php/?foo=1&bar=2", vecSig, false},
		{"query differs", "https://mycompany.com/myapp.php?bar=2&foo=1", vecSig, false},
		{"wrong signature", vecURL, "WRONG SIGNATURE", false},
		{"empty signature", vecURL, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := twilio.VerifySignature(vecToken, c.url, vecParams(), c.sig)
			if c.ok && err != nil {
				t.Fatalf("VerifySignature: %v", err)
			}
			if !c.ok && !errors.Is(err, twilio.ErrBadSignature) {
				t.Fatalf("VerifySignature = %v, want ErrBadSignature", err)
			}
		})
	}
}

func TestVerifySignatureTampered(t *testing.T) {
	p := vecParams()
	p.Set("Digits", "1235")
	if err := twilio.VerifySignature(vecToken, vecURL, p, vecSig); !errors.Is(err, twilio.ErrBadSignature) {
		t.Fatalf("tampered value: %v", err)
	}
	p = vecParams()
	p.Set("Extra", "")
	if err := twilio.VerifySignature(vecToken, vecURL, p, vecSig); !errors.Is(err, twilio.ErrBadSignature) {
		t.Fatalf("added parameter: %v", err)
	}
	if err := twilio.VerifySignature("54321", vecURL, vecParams(), vecSig); !errors.Is(err, twilio.ErrBadSignature) {
		t.Fatalf("other token: %v", err)
	}
	if err := twilio.VerifySignature("", vecURL, vecParams(), twilio.Signature("", vecURL, vecParams())); !errors.Is(err, twilio.ErrBadSignature) {
		t.Fatalf("empty token accepted: %v", err)
	}
}

// Repeated parameters are signed once per distinct value, values sorted,
// whatever order they arrived in, as Twilio's helper libraries sign them:
// their published vectors (auth token 12345) cover a repeated value and a
// name that is a prefix of another. Dropping a distinct value changes the
// signature; repeating one does not.
func TestSignatureRepeatedParametersTwilioVectors(t *testing.T) {
	vectors := []struct {
		name   string
		params url.Values
		want   string
	}{
		{"duplicate value signed once",
			url.Values{"Sid": {"CA123"}, "SidAccount": {"AC123"}, "Digits": {"5678", "1234", "1234"}}, "IK+Dwps556ElfBT0I3Rgjkr1wJU="},
		{"values in another order",
			url.Values{"Sid": {"CA123"}, "SidAccount": {"AC123"}, "Digits": {"1234", "5678"}}, "IK+Dwps556ElfBT0I3Rgjkr1wJU="},
		{"array parameter",
			url.Values{"MessagingBinding.Address": {"+1325xxxxxxx", "+1415xxxxxxx"}}, "83O6e2vORAoJHUNzJjDWN1jz+BA="},
		{"array parameter reversed",
			url.Values{"MessagingBinding.Address": {"+1415xxxxxxx", "+1325xxxxxxx"}}, "83O6e2vORAoJHUNzJjDWN1jz+BA="},
	}
	for _, v := range vectors {
		if got := twilio.Signature(vecToken, vecURL, v.params); got != v.want {
			t.Errorf("%s: Signature = %q, want %q", v.name, got, v.want)
		}
		if err := twilio.VerifySignature(vecToken, vecURL, v.params, v.want); err != nil {
			t.Errorf("%s: %v", v.name, err)
		}
	}
	dropped := url.Values{"Sid": {"CA123"}, "SidAccount": {"AC123"}, "Digits": {"5678"}}
	if err := twilio.VerifySignature(vecToken, vecURL, dropped, "IK+Dwps556ElfBT0I3Rgjkr1wJU="); !errors.Is(err, twilio.ErrBadSignature) {
		t.Fatalf("dropped value accepted: %v", err)
	}
	// The input is not modified.
	p := url.Values{"Digits": {"5678", "1234", "1234"}}
	twilio.Signature(vecToken, vecURL, p)
	if strings.Join(p["Digits"], ",") != "5678,1234,1234" {
		t.Fatalf("Signature modified its input: %q", p["Digits"])
	}
}

// Twilio's vectors for URLs with credentials, as given and with the
// default port added.
func TestSignatureTwilioVectorsCredentials(t *testing.T) {
	for _, c := range []struct{ url, sig string }{
		{"https://user:pass@mycompany.com/myapp.php?foo=1&bar=2", "CukzLTc1tT5dXEDIHm/tKBanW10="},
		{"https://user@mycompany.com/myapp.php?foo=1&bar=2", "2YRLlVAflCqxaNicjMpJcSTgzSs="},
		{"https://user:pass@mycompany.com/myapp.php?foo=1&bar=2", "ZQFR1PTIZXF2MXB8ZnKCvnnA+rI="},
	} {
		if err := twilio.VerifySignature(vecToken, c.url, vecParams(), c.sig); err != nil {
			t.Errorf("%s %s: %v", c.url, c.sig, err)
		}
	}
}

func TestVerifySignatureWithBody(t *testing.T) {
	body := []byte(vecBody)
	if got := twilio.BodySHA256(body); got != vecHash {
		t.Fatalf("BodySHA256 = %s", got)
	}
	if err := twilio.VerifySignatureWithBody(vecToken, vecURL+"&bodySHA256="+vecHash, body, "a9nBmqA0ju/hNViExpshrM61xv4="); err != nil {
		t.Fatal(err)
	}
	u := "https://mycompany.com/myapp.php?bodySHA256=" + vecHash
	if err := twilio.VerifySignatureWithBody(vecToken, u, body, "y77kIzt2vzLz71DgmJGsen2scGs="); err != nil {
		t.Fatal(err)
	}
	// Port variants apply to the body variant too.
	if err := twilio.VerifySignatureWithBody(vecToken, "https://mycompany.com:443/myapp.php?bodySHA256="+vecHash, body, "y77kIzt2vzLz71DgmJGsen2scGs="); err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		name, url string
		body      []byte
		sig       string
	}{
		{"tampered body", u, []byte(`{"property": "other", "boolean": true}`), "y77kIzt2vzLz71DgmJGsen2scGs="},
		{"no bodySHA256", vecURL, body, vecSig},
		{"signature over other URL", u, body, vecSig},
		{"hash for other body, re-signed", "https://mycompany.com/myapp.php?bodySHA256=" + twilio.BodySHA256([]byte("x")), body,
			twilio.Signature(vecToken, "https://mycompany.com/myapp.php?bodySHA256="+twilio.BodySHA256([]byte("x")), nil)},
		{"bad query", "https://mycompany.com/myapp.php?bodySHA256=%zz", body, "y77kIzt2vzLz71DgmJGsen2scGs="},
	}
	for _, c := range bad {
		if err := twilio.VerifySignatureWithBody(vecToken, c.url, c.body, c.sig); !errors.Is(err, twilio.ErrBadSignature) {
			t.Errorf("%s: %v, want ErrBadSignature", c.name, err)
		}
	}
}
