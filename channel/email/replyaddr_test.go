package email

import (
	"errors"
	"strings"
	"testing"
)

func TestReplyAddressRoundTrip(t *testing.T) {
	for _, id := range []string{"th_8f3a", "01HZX3K9-ABC", "a.b c/é+@", "=41", strings.Repeat("x", 40)} {
		addr, err := ReplyAddress(replySecret, "Studio <reply@in.studio.example>", id)
		if err != nil {
			t.Fatal(err)
		}
		local := addr[:strings.LastIndexByte(addr, '@')]
		if !strings.HasPrefix(local, "reply+") || strings.ContainsAny(local[6:], "+@ <>\"") || !strings.HasSuffix(addr, "@in.studio.example") {
			t.Errorf("%q: address %q is not reply+<id>.<token>@domain", id, addr)
		}
		got, err := ParseReplyAddress(replySecret, "Studio Zen <"+addr+">")
		if err != nil || got != id {
			t.Errorf("%q: ParseReplyAddress(%q) = %q, %v", id, addr, got, err)
		}
		// Mail systems may change the case of the token and hex escapes.
		at := strings.LastIndexByte(addr, '@')
		dot := strings.LastIndexByte(addr[:at], '.')
		upper := addr[:dot] + strings.ToUpper(addr[dot:at]) + addr[at:]
		if got, err := ParseReplyAddress(replySecret, upper); err != nil || got != id {
			t.Errorf("%q: upper-case token: %q, %v", id, got, err)
		}
	}
}

// The token cannot be forged: any change of the thread ID or of the token,
// another secret, or another thread's token gives ErrBadReplyToken.
func TestParseReplyAddressRejectsForgery(t *testing.T) {
	addr, _ := ReplyAddress(replySecret, "reply@in.studio.example", "th_1")
	at := strings.LastIndexByte(addr, '@')
	for i := len("reply+"); i < at; i++ {
		if addr[i] == '.' {
			continue
		}
		b := []byte(addr)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		if _, err := ParseReplyAddress(replySecret, string(b)); !errors.Is(err, ErrBadReplyToken) {
			t.Errorf("changed byte %d (%q): err = %v, want ErrBadReplyToken", i, b, err)
		}
	}
	if _, err := ParseReplyAddress([]byte("another-secret-0123456789"), addr); !errors.Is(err, ErrBadReplyToken) {
		t.Errorf("other secret: err = %v", err)
	}
	other, _ := ReplyAddress(replySecret, "reply@in.studio.example", "th_2")
	swapped := "reply+th_2" + addr[strings.LastIndexByte(addr[:at], '.'):]
	if swapped == other {
		t.Fatal("test setup: tokens of two threads are equal")
	}
	if _, err := ParseReplyAddress(replySecret, swapped); !errors.Is(err, ErrBadReplyToken) {
		t.Errorf("token moved to another thread: err = %v", err)
	}
	for _, a := range []string{"reply+th_1@x.y", "reply+th_1.@x.y", "reply+.aaaaaaaaaaaaaaaa@x.y", "reply+th_1.!!!!!!!!!!!!!!!!@x.y", "reply+th=zz.aaaaaaaaaaaaaaaa@x.y"} {
		_, err := ParseReplyAddress(replySecret, a)
		if !errors.Is(err, ErrBadReplyToken) && !errors.Is(err, ErrNoReplyToken) {
			t.Errorf("%q: err = %v", a, err)
		}
	}
	for _, a := range []string{"hello@studio.example", "not an address", "", "john+newsletter@gmail.com"} {
		if _, err := ParseReplyAddress(replySecret, a); !errors.Is(err, ErrNoReplyToken) {
			t.Errorf("%q: err = %v, want ErrNoReplyToken", a, err)
		}
	}
}

func TestReplyAddressValidates(t *testing.T) {
	if _, err := ReplyAddress([]byte("short"), "reply@x.y", "t"); !errors.Is(err, ErrConfig) {
		t.Errorf("short secret: %v", err)
	}
	if _, err := ReplyAddress(replySecret, "no-at-sign", "t"); !errors.Is(err, ErrConfig) {
		t.Errorf("bad base: %v", err)
	}
	if _, err := ReplyAddress(replySecret, "reply@x.y", ""); !errors.Is(err, ErrConfig) {
		t.Errorf("empty thread: %v", err)
	}
	if _, err := ParseReplyAddress(nil, "reply+a.b@x.y"); !errors.Is(err, ErrConfig) {
		t.Errorf("parse with no secret: %v", err)
	}
}
