package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// The quickstart's push: only the members who have the app get it (R2), an
// accepted push is sent and an opened one read (S1).
func TestQuickstartPush(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	i := strings.Index(s, "== 7. A push to members who have the app")
	if i < 0 {
		t.Fatalf("no push section:\n%s", s)
	}
	for _, want := range []string{
		"no push for m-marc (recipient: no push device)",
		"no push for m-ines (recipient: no push device)",
		"push to the 2 members who have the app: sent=2",
		"after m-helene opened it: sent=1 read=1",
	} {
		if !strings.Contains(s[i:], want) {
			t.Errorf("push section lacks %q\n%s", want, s[i:])
		}
	}
}
