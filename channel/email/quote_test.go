package email

import (
	"strings"
	"testing"
)

// StripQuoted keeps only the new text of a reply, whatever client wrote it.
func TestStripQuoted(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"gmail english", "Yes, 9am works.\n\nOn Sat, Mar 14, 2026 at 9:30 AM Studio Zen <hello@studio.example> wrote:\n> See you tomorrow\n> at 9am", "Yes, 9am works."},
		{"gmail wrapped attribution", "OK\n\nOn Sat, Mar 14, 2026 at 9:30 AM Studio Zen <\nhello@studio.example> wrote:\n\n> quoted", "OK"},
		{"gmail french", "D'accord !\n\nLe sam. 14 mars 2026 à 09:30, Studio Zen <hello@studio.example> a\u00a0écrit\u00a0:\n> Bonjour", "D'accord !"},
		{"apple mail", "Thanks\n\nSent from my iPhone\n\n> On 14 Mar 2026, at 09:30, Studio Zen <hello@studio.example> wrote:\n>\n> Hi", "Thanks"},
		{"french mobile signature", "Merci\n\nEnvoyé de mon iPhone", "Merci"},
		{"german", "Passt.\n\nAm 14.03.2026 um 09:30 schrieb Studio Zen <hello@studio.example>:\n> Hallo", "Passt."},
		{"spanish", "Vale.\n\nEl sáb, 14 mar 2026 a las 9:30, Studio Zen (<hello@studio.example>) escribió:\n> Hola", "Vale."},
		{"outlook original message", "Confirmed.\n\n-----Original Message-----\nFrom: Studio Zen\nSent: Saturday\nSubject: x\n\nold", "Confirmed."},
		{"outlook french message d'origine", "Confirmé.\n\n----- Message d'origine -----\nDe : Studio\n", "Confirmé."},
		{"outlook header block", "See you.\r\n\r\n________________________________\r\nFrom: Studio Zen <hello@studio.example>\r\nSent: Saturday, March 14, 2026 9:30 AM\r\nTo: Marc\r\nSubject: Reminder\r\n\r\nold text", "See you."},
		{"outlook header block bold", "Ok\n\n*From:* Studio Zen\n*Sent:* Saturday\n*To:* Marc\n", "Ok"},
		{"outlook french block", "Oui.\n\nDe : Studio Zen <hello@studio.example>\nEnvoyé : samedi 14 mars 2026 09:30\nÀ : Marc\nObjet : Rappel\n", "Oui."},
		{"signature", "Booked, thanks.\n-- \nJane Doe\nACME Corp", "Booked, thanks."},
		{"signature stripped of trailing space", "Booked.\n--\nJane", "Booked."},
		{"inline answers kept", "> Can you come at 9?\nYes.\n> And bring a mat?\nSure.", "Yes.\nSure."},
		{"no quote", "Just a message.\nTwo lines.", "Just a message.\nTwo lines."},
		{"mentions wrote mid text", "On reflection I wrote: nothing.\nBye", "On reflection I wrote: nothing.\nBye"},
		{"from line without sent is kept", "From: the front desk, with love.\nSee you", "From: the front desk, with love.\nSee you"},
		{"only quote", "On Mon, Jan 5, 2026 at 10:00 Bob <b@x.y> wrote:\n> hi", ""},
		{"blank lines trimmed", "\n\n  \nHello\n\n\n", "Hello"},
		{"dashes that are not a signature", "Price -- 20 EUR\nOk", "Price -- 20 EUR\nOk"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := StripQuoted(tc.in); got != tc.want {
				t.Errorf("StripQuoted(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestHTMLToText(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"paragraphs and breaks", "<p>Hello <b>Jane</b>,</p><p>See you<br>tomorrow.</p>", "Hello Jane,\n\nSee you\ntomorrow."},
		{"head script style dropped", "<html><head><title>T</title><style>p{}</style></head><body><script>x()</script><div>Body</div></body></html>", "Body"},
		{"list", "<ul><li>Mat</li><li>Water</li></ul>", "- Mat\n- Water"},
		{"link target kept", `<a href="https://studio.example/book">Book</a> now`, "Book (https://studio.example/book) now"},
		{"entities", "Caf&eacute; &amp; th&#233;", "Café & thé"},
		{"gmail quote dropped", `<div>Yes</div><div class="gmail_quote"><div>On … wrote:</div><blockquote>old</blockquote></div>`, "Yes"},
		{"outlook reply dropped", `<p>Ok</p><div id="divRplyFwdMsg"><b>From:</b> x</div>`, "Ok"},
		{"broken html", "<p>Unclosed <b>bold<div>next", "Unclosed bold\nnext"},
		{"whitespace collapsed", "<p>  a \n\t b  </p>", "a b"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := HTMLToText(tc.in); got != tc.want {
				t.Errorf("HTMLToText(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestStripQuotedHandlesLongInput(t *testing.T) {
	in := strings.Repeat("On and on and on ", 10000) + "\n" + strings.Repeat("> q\n", 10000)
	if got := StripQuoted(in); !strings.HasPrefix(got, "On and on") || strings.Contains(got, "> q") {
		t.Errorf("unexpected result of %d bytes", len(got))
	}
}
