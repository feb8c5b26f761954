package email

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzParse: the MIME parser never panics, and whatever it accepts has a
// sender, an ID and valid UTF-8 text.
func FuzzParse(f *testing.F) {
	addr, _ := ReplyAddress(replySecret, "reply@in.studio.example", "th_1")
	f.Add([]byte(rawReply))
	f.Add([]byte("From: a@b.c\r\nTo: " + addr + "\r\n\r\nhi"))
	f.Add([]byte("From: a@b.c\r\nContent-Type: multipart/mixed; boundary=X\r\n\r\n--X\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=E9t=E9\r\n--X\r\nContent-Type: message/rfc822\r\n\r\nFrom: x@y.z\r\n\r\ninner\r\n--X--\r\n"))
	f.Add([]byte("From: =?utf-8?b?w6k=?= <a@b.c>\r\nSubject: =?x-unknown?q?a?=\r\nContent-Type: text/html; charset=bogus\r\nContent-Transfer-Encoding: base64\r\n\r\nPGI+aGk8L2I+"))
	f.Add([]byte("From: a@b.c\r\nContent-Type: multipart/alternative; boundary=\"\"\r\n\r\n--\r\n"))
	p := Parser{ReplySecrets: [][]byte{replySecret}, MaxBytes: 1 << 20, Now: fixedClock}
	f.Fuzz(func(t *testing.T, raw []byte) {
		in, err := p.Parse(bytes.NewReader(raw))
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("unexpected error class: %v", err)
			}
			return
		}
		if in.From == "" || in.ProviderID == "" {
			t.Fatalf("accepted without From or ID: %+v", in)
		}
		if !utf8.ValidString(in.Text) || !utf8.ValidString(in.Subject) {
			t.Fatalf("invalid UTF-8 out: %q %q", in.Text, in.Subject)
		}
	})
}

// FuzzStripQuoted: never panics, returns valid UTF-8 for valid input, no
// line quoted with ">", and is idempotent.
func FuzzStripQuoted(f *testing.F) {
	for _, s := range []string{
		"Yes\n\nOn Sat, Mar 14, 2026 at 9:30 AM Studio <a@b.c> wrote:\n> x",
		"Oui\nLe sam. 14 mars 2026 à 09:30, S <a@b.c> a écrit :\n> x",
		"ok\n-----Original Message-----\nFrom: x",
		"a\n-- \nsig", "> q\nanswer", "\r\r\n\n", "From: x\nSent: y",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := StripQuoted(s)
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 from valid input")
		}
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(strings.TrimLeft(l, " \t"), ">") {
				t.Fatalf("quoted line kept: %q", l)
			}
		}
		if again := StripQuoted(out); again != out {
			t.Fatalf("not idempotent:\n%q\n%q", out, again)
		}
	})
}

// FuzzHTMLToText: never panics and returns valid UTF-8.
func FuzzHTMLToText(f *testing.F) {
	for _, s := range []string{"<p>a<br>b</p>", "<div class=gmail_quote><blockquote>x</div>", "<a href=https://x>y</a>", "<script>", "</b></b></div>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := HTMLToText(s)
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8")
		}
	})
}

// FuzzParseReplyAddress: never panics; an address accepted is exactly the
// one ReplyAddress makes for the thread it names (up to case of the
// token), so nothing else verifies.
func FuzzParseReplyAddress(f *testing.F) {
	good, _ := ReplyAddress(replySecret, "reply@in.studio.example", "th_1")
	for _, s := range []string{good, "reply+th_1.aaaaaaaaaaaaaaaa@x.y", "a+b.c@d", "<>", "reply+=zz.aaaaaaaaaaaaaaaa@x", "\"x+y.z\"@q"} {
		f.Add(s, "th_1")
	}
	f.Fuzz(func(t *testing.T, addr, thread string) {
		id, err := ParseReplyAddress(replySecret, addr)
		if err == nil {
			want, werr := ReplyAddress(replySecret, "reply@x.y", id)
			if werr != nil {
				t.Fatalf("verified ID %q cannot be made: %v", id, werr)
			}
			tag := want[len("reply+"):strings.LastIndexByte(want, '@')]
			if !strings.Contains(strings.ToLower(addr), strings.ToLower(tag)) {
				t.Fatalf("%q verified as %q but does not carry its tag %q", addr, id, tag)
			}
		} else if !errors.Is(err, ErrNoReplyToken) && !errors.Is(err, ErrBadReplyToken) {
			t.Fatalf("unexpected error class: %v", err)
		}
		if thread == "" {
			return
		}
		made, err := ReplyAddress(replySecret, "reply@in.studio.example", thread)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := ParseReplyAddress(replySecret, made); err != nil || got != thread {
			t.Fatalf("round trip of %q: %q, %v", thread, got, err)
		}
	})
}

// FuzzVerifySignature: never panics, and only a correctly signed body
// passes.
func FuzzVerifySignature(f *testing.F) {
	f.Add([]byte("body"), Sign(hookSecret, t0, []byte("body")))
	f.Add([]byte(""), "t=1,v1=00")
	f.Add([]byte("x"), "v1=,t=")
	f.Add([]byte("x"), ",,,=")
	f.Fuzz(func(t *testing.T, body []byte, header string) {
		err := VerifySignature(hookSecret, body, header, t0, time.Minute)
		if err != nil {
			if !errors.Is(err, ErrBadSignature) {
				t.Fatalf("unexpected error class: %v", err)
			}
			return
		}
		sig := Sign(hookSecret, t0, body)
		if !strings.Contains(strings.ToLower(header), sig[strings.Index(sig, "v1=")+3:]) {
			t.Fatalf("accepted a header without the body's MAC: %q", header)
		}
	})
}
