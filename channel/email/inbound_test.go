package email

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
)

var replySecret = []byte("0123456789abcdef-reply-secret")

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// A Gmail reply to a per-thread reply address: the text part without the
// quoted history, threading IDs for routing (M4) and the thread token.
func TestParseGmailReply(t *testing.T) {
	addr, err := ReplyAddress(replySecret, "reply@in.studio.example", "th_8f3a")
	if err != nil {
		t.Fatal(err)
	}
	raw := crlf(`Received: from mail-wr1.google.com (mail-wr1.google.com [209.85.221.41])
	by mx.in.studio.example with ESMTPS id 4F2B3C; Sat, 14 Mar 2026 10:02:03 +0100
MIME-Version: 1.0
References: <root1@studio.example> <k3xq2@studio.example>
In-Reply-To: <k3xq2@studio.example>
From: =?UTF-8?Q?H=C3=A9l=C3=A8ne_Dupr=C3=A9?= <helene@example.org>
Date: Sat, 14 Mar 2026 10:01:55 +0100
Message-ID: <CAF=abc+123@mail.gmail.com>
Subject: Re: =?UTF-8?Q?Votre_s=C3=A9ance_de_yoga?=
To: Studio Zen <` + addr + `>
Content-Type: multipart/alternative; boundary="000000000000a1b2c3"

--000000000000a1b2c3
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

Parfait, je serai l=C3=A0 =C3=A0 9h. Merci !

On Sat, Mar 14, 2026 at 9:30 AM Studio Zen <hello@studio.example>
wrote:

> Bonjour H=C3=A9l=C3=A8ne,
> =C3=A0 demain 9h.
>

--000000000000a1b2c3
Content-Type: text/html; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

<div dir=3D"ltr">Parfait, je serai l=C3=A0 =C3=A0 9h. Merci=C2=A0!</div><br=
><div class=3D"gmail_quote"><div dir=3D"ltr" class=3D"gmail_attr">On Sat, M=
ar 14, 2026 at 9:30 AM Studio Zen wrote:<br></div><blockquote class=3D"gmail=
_quote">Bonjour H=C3=A9l=C3=A8ne</blockquote></div>

--000000000000a1b2c3--
`)
	p := Parser{ReplySecrets: [][]byte{[]byte("new-secret-0123456789"), replySecret}, Now: fixedClock}
	in, err := p.Parse(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if in.Kind != channel.Email || in.From != "helene@example.org" || in.Name != "Hélène Dupré" {
		t.Errorf("sender = %v %q %q", in.Kind, in.From, in.Name)
	}
	if in.To != addr {
		t.Errorf("To = %q, want %q", in.To, addr)
	}
	if in.Subject != "Re: Votre séance de yoga" {
		t.Errorf("Subject = %q", in.Subject)
	}
	if in.Text != "Parfait, je serai là à 9h. Merci !" {
		t.Errorf("Text = %q", in.Text)
	}
	if !strings.Contains(in.HTML, "gmail_quote") {
		t.Errorf("HTML should be kept as it came: %q", in.HTML)
	}
	if in.ProviderID != "CAF=abc+123@mail.gmail.com" {
		t.Errorf("ProviderID = %q", in.ProviderID)
	}
	if got := strings.Join(in.InReplyTo, " "); got != "k3xq2@studio.example root1@studio.example" {
		t.Errorf("InReplyTo = %q", got)
	}
	if in.ThreadToken != "th_8f3a" {
		t.Errorf("ThreadToken = %q (old secret must still verify)", in.ThreadToken)
	}
	if want := time.Date(2026, 3, 14, 9, 2, 3, 0, time.UTC); !in.ReceivedAt.Equal(want) {
		t.Errorf("ReceivedAt = %v, want %v (Received header)", in.ReceivedAt, want)
	}
	if len(in.Attachments) != 0 {
		t.Errorf("attachments %v", in.Attachments)
	}
}

// An Outlook reply in ISO-8859-1 with a French header block: charset and
// encoded words decoded, the "De : … Envoyé : …" history cut, the
// signature cut.
func TestParseOutlookFrenchLatin1(t *testing.T) {
	body := "Bonjour,\n\nJe ne pourrai pas venir \xe0 la s\xe9ance de jeudi.\n\n-- \nMarc Lef\xe8vre\nT\xe9l 06 12 34 56 78\n\n" +
		"________________________________\nDe : Studio Zen <hello@studio.example>\nEnvoy\xe9 : jeudi 12 mars 2026 18:00\n\xc0 : Marc\nObjet : Rappel\n\nVotre s\xe9ance demain.\n"
	raw := crlf("From: =?iso-8859-1?Q?Marc_Lef=E8vre?= <marc@example.fr>\n" +
		"To: hello@studio.example\n" +
		"Subject: =?iso-8859-1?Q?RE=A0:_Rappel_s=E9ance?=\n" +
		"Message-ID: <DB9PR01MB1234@outlook.com>\n" +
		"In-Reply-To: <k3xq2@studio.example>\n" +
		"Content-Type: text/plain; charset=\"iso-8859-1\"\n" +
		"Content-Transfer-Encoding: 8bit\n\n" + body)
	p := Parser{Now: fixedClock}
	in, err := p.Parse(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if in.Name != "Marc Lefèvre" || in.Subject != "RE\u00a0: Rappel séance" {
		t.Errorf("Name %q Subject %q", in.Name, in.Subject)
	}
	if want := "Bonjour,\n\nJe ne pourrai pas venir à la séance de jeudi."; in.Text != want {
		t.Errorf("Text = %q, want %q", in.Text, want)
	}
	if !in.ReceivedAt.Equal(t0) {
		t.Errorf("ReceivedAt = %v, want the clock without a Received header", in.ReceivedAt)
	}
	if in.ThreadToken != "" {
		t.Errorf("ThreadToken = %q without reply secrets", in.ThreadToken)
	}
}

// An HTML-only message in base64 Windows-1252 becomes text; an attachment
// is kept with its name, type and decoded data.
func TestParseHTMLOnlyAndAttachments(t *testing.T) {
	raw := crlf(`From: guest@example.com
To: desk@hotel.example
Subject: Late arrival
Message-ID: <m1@example.com>
Content-Type: multipart/mixed; boundary=XX

--XX
Content-Type: text/html; charset=windows-1252
Content-Transfer-Encoding: base64

PHA+V2UgYXJyaXZlIGF0IDIzaDAwIOKAkyBpcyB0aGF0IE9LPzwvcD48cD5UaGFua3MgkzwvcD4=
--XX
Content-Type: image/png; name="map.png"
Content-Disposition: attachment; filename="map.png"
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--XX--
`)
	in, err := Parse(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(in.Text, "We arrive at 23h00") || !strings.Contains(in.Text, "Thanks \u201c") {
		t.Errorf("Text = %q", in.Text)
	}
	if len(in.Attachments) != 1 {
		t.Fatalf("attachments = %+v", in.Attachments)
	}
	a := in.Attachments[0]
	if a.Name != "map.png" || a.ContentType != "image/png" || string(a.Data) != "\x89PNG\r\n\x1a\n" {
		t.Errorf("attachment = %q %q %q", a.Name, a.ContentType, a.Data)
	}
}

// Without a Message-ID the ProviderID is a hash of the raw bytes, so the
// same delivery twice still deduplicates (M5).
func TestParseWithoutMessageIDHashesRaw(t *testing.T) {
	raw := "From: a@example.com\r\nTo: b@example.com\r\nSubject: hi\r\n\r\nhello\r\n"
	a, err := Parse(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Parse(strings.NewReader(raw))
	c, _ := Parse(strings.NewReader(raw + "again\r\n"))
	if !strings.HasPrefix(a.ProviderID, "sha256:") || len(a.ProviderID) != 7+32 || a.ProviderID != b.ProviderID {
		t.Errorf("IDs %q %q", a.ProviderID, b.ProviderID)
	}
	if c.ProviderID == a.ProviderID {
		t.Error("different messages share an ID")
	}
	if a.Text != "hello" {
		t.Errorf("Text = %q", a.Text)
	}
}

func TestParseRefusesMalformedAndLarge(t *testing.T) {
	for name, raw := range map[string]string{
		"empty":     "",
		"no header": "just some text without any header\r\n",
		"no from":   "To: b@example.com\r\nSubject: x\r\n\r\nbody",
	} {
		if _, err := Parse(strings.NewReader(raw)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
	p := Parser{MaxBytes: 64}
	raw := "From: a@example.com\r\n\r\n" + strings.Repeat("x", 100)
	if _, err := p.Parse(strings.NewReader(raw)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("err = %v, want ErrTooLarge", err)
	}
}

// A reply to a forged reply address gets no thread token; routing falls
// back to In-Reply-To.
func TestParseForgedReplyAddressIgnored(t *testing.T) {
	good, _ := ReplyAddress(replySecret, "reply@in.studio.example", "th_1")
	other, _ := ReplyAddress(replySecret, "reply@in.studio.example", "th_2")
	// th_1 with th_2's token: an attempt to move a reply to another thread.
	forged := strings.Replace(good, good[strings.IndexByte(good, '.'):strings.IndexByte(good, '@')],
		other[strings.IndexByte(other, '.'):strings.IndexByte(other, '@')], 1)
	raw := crlf("From: a@example.com\nTo: " + forged + "\nCc: someone+tag@example.com\nSubject: x\nIn-Reply-To: <k@s>\n\nhello\n")
	p := Parser{ReplySecrets: [][]byte{replySecret}}
	in, err := p.Parse(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if in.ThreadToken != "" {
		t.Errorf("forged address gave ThreadToken %q", in.ThreadToken)
	}
	// Delivered-To is checked too.
	raw = crlf("Delivered-To: " + good + "\nFrom: a@example.com\nTo: hello@studio.example\nSubject: x\n\nhello\n")
	if in, _ = p.Parse(strings.NewReader(raw)); in.ThreadToken != "th_1" {
		t.Errorf("Delivered-To: ThreadToken %q", in.ThreadToken)
	}
}

// manyParts builds a multipart/mixed message whose first n parts are small
// attachments and whose last part is the text.
func manyParts(n int, text string) string {
	var b strings.Builder
	b.WriteString("From: guest@example.com\r\nTo: desk@hotel.example\r\nSubject: photos\r\nMessage-ID: <many@example.com>\r\n" +
		"Content-Type: multipart/mixed; boundary=B\r\n\r\n")
	for i := range n {
		fmt.Fprintf(&b, "--B\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=\"p%d.png\"\r\n\r\npng%d\r\n", i, i)
	}
	b.WriteString("--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text + "\r\n--B--\r\n")
	return b.String()
}

// nested builds a message whose text sits depth multipart levels down,
// followed, when sibling is set, by a text part at the first level.
func nested(depth int, deepText, sibling string) string {
	var b strings.Builder
	b.WriteString("From: guest@example.com\r\nSubject: deep\r\nMessage-ID: <deep@example.com>\r\nContent-Type: multipart/mixed; boundary=L0\r\n\r\n")
	for i := 1; i < depth; i++ {
		fmt.Fprintf(&b, "--L%d\r\nContent-Type: multipart/mixed; boundary=L%d\r\n\r\n", i-1, i)
	}
	fmt.Fprintf(&b, "--L%d\r\nContent-Type: text/plain\r\n\r\n%s\r\n--L%d--\r\n", depth-1, deepText, depth-1)
	for i := depth - 2; i >= 1; i-- {
		fmt.Fprintf(&b, "--L%d--\r\n", i)
	}
	if sibling != "" {
		b.WriteString("--L0\r\nContent-Type: text/plain\r\n\r\n" + sibling + "\r\n")
	}
	b.WriteString("--L0--\r\n")
	return b.String()
}

// A message with more parts than the parser keeps: the text after them is
// still found, the attachments past MaxParts are dropped, and the message
// says it is truncated instead of arriving with an empty body.
func TestParsePartsBeyondLimitTruncated(t *testing.T) {
	in, err := Parse(strings.NewReader(manyParts(300, "Here are the photos of the damage.")))
	if err != nil {
		t.Fatal(err)
	}
	if in.Text != "Here are the photos of the damage." {
		t.Errorf("Text = %q, want the text part after 300 attachments", in.Text)
	}
	if !in.Truncated {
		t.Error("attachments dropped but Truncated not set")
	}
	if n := len(in.Attachments); n == 0 || n >= MaxParts {
		t.Errorf("%d attachments kept, want those within the first %d parts", n, MaxParts)
	}
	// Within the limit nothing is truncated.
	in, err = Parse(strings.NewReader(manyParts(10, "ten photos")))
	if err != nil || in.Truncated || in.Text != "ten photos" || len(in.Attachments) != 10 {
		t.Errorf("10 parts: %v truncated=%v text=%q attachments=%d", err, in.Truncated, in.Text, len(in.Attachments))
	}
	// Past MaxScanParts the text is not reached: empty, and said so.
	in, err = Parse(strings.NewReader(manyParts(MaxScanParts+10, "never reached")))
	if err != nil || !in.Truncated || in.Text != "" {
		t.Errorf("%d parts: %v truncated=%v text=%q", MaxScanParts+10, err, in.Truncated, in.Text)
	}
}

// Parts nested deeper than MaxDepth are skipped, not the rest of the
// message: a text part after the deep branch is kept, and the message is
// marked truncated. Text only found too deep leaves an empty text that says
// so.
func TestParseNestingBeyondLimitTruncated(t *testing.T) {
	in, err := Parse(strings.NewReader(nested(MaxDepth+4, "buried", "Room 12 has no hot water.")))
	if err != nil {
		t.Fatal(err)
	}
	if in.Text != "Room 12 has no hot water." || !in.Truncated {
		t.Errorf("Text = %q, Truncated = %v; want the sibling text, truncated", in.Text, in.Truncated)
	}
	in, err = Parse(strings.NewReader(nested(MaxDepth+4, "buried", "")))
	if err != nil || in.Text != "" || !in.Truncated {
		t.Errorf("only deep text: %v Text = %q, Truncated = %v", err, in.Text, in.Truncated)
	}
	in, err = Parse(strings.NewReader(nested(MaxDepth, "just deep enough", "")))
	if err != nil || in.Text != "just deep enough" || in.Truncated {
		t.Errorf("depth %d: %v Text = %q, Truncated = %v", MaxDepth, err, in.Text, in.Truncated)
	}
}

// A MIME structure that breaks off midway keeps what came before it and
// says the message is truncated.
func TestParseBrokenStructureKeepsWhatCameBefore(t *testing.T) {
	raw := "From: guest@example.com\r\nMessage-ID: <broken@example.com>\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n" +
		"--B\r\nContent-Type: text/plain\r\n\r\nArriving at 23:00, please keep the room.\r\n" +
		"--B\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=a.png\r\n\r\npng-without-end"
	in, err := Parse(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if in.Text != "Arriving at 23:00, please keep the room." || !in.Truncated {
		t.Errorf("Text = %q, Truncated = %v", in.Text, in.Truncated)
	}
}
