package template

import "testing"

// C11: HTML is converted to readable plain text with links kept.
func TestHTMLToTextC11(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"paragraphs", "<p>Hello</p><p>World</p>", "Hello\n\nWorld"},
		{"whitespace", "<p>  Hello \n   big\tworld </p>", "Hello big world"},
		{"br", "Line one<br>Line two<br/>Line three", "Line one\nLine two\nLine three"},
		{"link", `See <a href="https://x.example/b">our offer</a> now`, "See our offer (https://x.example/b) now"},
		{"bare link", `<a href="https://x.example/">https://x.example/</a>`, "https://x.example/"},
		{"link trailing slash", `<a href="https://x.example/">https://x.example</a>`, "https://x.example/"},
		{"mailto", `<a href="mailto:hi@x.example">hi@x.example</a>`, "hi@x.example"},
		{"tel with text", `<a href="tel:+33140000000">Call us</a>`, "Call us (+33140000000)"},
		{"anchor", `<a href="#top">Top</a>`, "Top"},
		{"image link", `<a href="https://x.example"><img alt="Logo" src="l.png"></a>`, "Logo (https://x.example)"},
		{"lists", "<ul><li>One</li><li>Two</li></ul><ol><li>First</li><li>Second</li></ol>", "- One\n- Two\n\n1. First\n2. Second"},
		{"headings", "<h1>Title</h1>Body", "Title\n\nBody"},
		{"drops", "<head><title>T</title><style>p{}</style></head><body>Hi<script>alert(1)</script></body>", "Hi"},
		{"entities", "Caf&eacute; &amp; th&eacute; &lt;3", "Café & thé <3"},
		{"table", "<table><tr><td>Room</td><td>12</td></tr><tr><td>Nights</td><td>2</td></tr></table>", "Room 12\nNights 2"},
		{"pre", "<pre>a\n  b</pre>", "a\n  b"},
		{"inline", "Hi <b>Ana</b>, <i>welcome</i>!", "Hi Ana, welcome!"},
		{"divs", "<div>a</div><div>b</div>", "a\nb"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		got, err := HTMLToText(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("%s: HTMLToText(%q) = %q, %v; want %q", tt.name, tt.in, got, err, tt.want)
		}
	}
}
