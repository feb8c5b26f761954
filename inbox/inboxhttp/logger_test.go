package inboxhttp_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/inboxhttp"
)

// Issue 16: the handler logs its 5xx answers to Options.Logger only; with
// none it is silent, and never writes to slog's default logger.
func TestLoggerSilentByDefault(t *testing.T) {
	var global, mine bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&global, nil)))
	defer slog.SetDefault(prev)
	for _, logger := range []*slog.Logger{nil, slog.New(slog.NewTextHandler(&mine, nil))} {
		e := newEnv(t, envOptions{handler: func(o *inboxhttp.Options) {
			o.Logger = logger
			o.Inbox = func(*http.Request, inboxhttp.Agent) (*inbox.Inbox, error) {
				return nil, errors.New("tenant database unreachable")
			}
		}})
		if r := e.do(req{method: "GET", path: "/api/me"}); r.code != http.StatusInternalServerError {
			t.Fatalf("status %d, want 500", r.code)
		}
	}
	if global.Len() != 0 {
		t.Errorf("the handler wrote to slog's default logger: %s", global.String())
	}
	if !strings.Contains(mine.String(), "tenant database unreachable") {
		t.Errorf("Options.Logger got %q, want the failure", mine.String())
	}
}
