package email

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A typical reply: multipart/alternative, quoted-printable, quoted history.
func benchReply(b *testing.B) string {
	addr, err := ReplyAddress(replySecret, "reply@in.studio.example", "th_8f3a")
	if err != nil {
		b.Fatal(err)
	}
	quoted := strings.Repeat("> Bonjour, votre s=C3=A9ance de yoga est confirm=C3=A9e pour demain 9h.\r\n", 40)
	return crlf("From: Jane <jane@example.org>\nTo: "+addr+"\nSubject: Re: class\nMessage-ID: <r1@example.org>\n"+
		"In-Reply-To: <k3xq2@studio.example>\nReferences: <a@s> <b@s> <k3xq2@studio.example>\n"+
		"Content-Type: multipart/alternative; boundary=B\n\n--B\nContent-Type: text/plain; charset=utf-8\n"+
		"Content-Transfer-Encoding: quoted-printable\n\nParfait, =C3=A0 demain !\n\n"+
		"On Sat, Mar 14, 2026 at 9:30 AM Studio <hello@studio.example> wrote:\n") + quoted +
		crlf("\n--B\nContent-Type: text/html; charset=utf-8\n\n<div>Parfait, à demain !</div><div class=\"gmail_quote\">old</div>\n--B--\n")
}

func BenchmarkParse(b *testing.B) {
	raw := benchReply(b)
	p := Parser{ReplySecrets: [][]byte{replySecret}}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Parse(strings.NewReader(raw)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStripQuoted(b *testing.B) {
	text := "Yes, 9am works.\n\nOn Sat, Mar 14, 2026 at 9:30 AM Studio Zen <hello@studio.example> wrote:\n" +
		strings.Repeat("> Your class is confirmed for tomorrow at 9am, bring a mat.\n", 40)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		_ = StripQuoted(text)
	}
}

func BenchmarkParseReplyAddress(b *testing.B) {
	addr, _ := ReplyAddress(replySecret, "reply@in.studio.example", "th_01HZX3K9ABCDEF")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseReplyAddress(replySecret, addr); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHandler(b *testing.B) {
	body := []byte(benchReply(b))
	h, err := NewHandler(HandlerConfig{Secret: hookSecret, ReplySecrets: [][]byte{replySecret}, Now: fixedClock}, &recorder{})
	if err != nil {
		b.Fatal(err)
	}
	sig := Sign(hookSecret, t0, body)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/hooks/email", bytes.NewReader(body))
		req.Header.Set(SignatureHeader, sig)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkSendLoopback sends over a real SMTP session on loopback: one
// connection per message, as Send does.
func BenchmarkSendLoopback(b *testing.B) {
	ts := newTestServer(b, serverScript{})
	s := senderFor(b, ts, nil)
	msg := baseMessage()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Send(context.Background(), msg); err != nil {
			b.Fatal(err)
		}
	}
}
