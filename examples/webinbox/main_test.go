package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// The -check run: the demo serves the page, the list, the event stream and
// a reply whose status the replayed webhooks raise to delivered.
func TestCheck(t *testing.T) {
	var out bytes.Buffer
	if err := runCheck(context.Background(), &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{"studio threads: 6", "Ana Silva", `sent to Ana Silva: "See you at 18h!"`, "after the webhooks: delivered"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
