package inboxhttp_test

import (
	"net/http"
	"testing"

	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/inboxhttp"
	"github.com/parleyhq/parley/inbox/memstore"
)

// Tenancy: Options.Inbox picks each request's inbox from its agent, so a
// tenant never reaches another tenant's threads.
func TestInboxPerTenant(t *testing.T) {
	other, err := inbox.New(memstore.New(), inbox.Options{})
	must(t, err)
	t.Cleanup(func() { other.Close() })
	var own *inbox.Inbox
	e := newEnv(t, envOptions{handler: func(o *inboxhttp.Options) {
		agent := o.Agent
		o.Agent = func(r *http.Request) (inboxhttp.Agent, error) {
			a, err := agent(r)
			if a.ID == "hotel-staff" {
				a.Tenant = "hotel"
			}
			return a, err
		}
		o.Inbox = func(_ *http.Request, a inboxhttp.Agent) (*inbox.Inbox, error) {
			if a.Tenant == "hotel" {
				return other, nil
			}
			return own, nil
		}
	}})
	own = e.ib
	th := e.start(inbox.SubjectContact, "ana")
	e.ok(req{method: "GET", path: "/api/threads/" + th.ID}, 200, nil)
	e.fails(req{method: "GET", path: "/api/threads/" + th.ID, agent: "hotel-staff"}, 404, inboxhttp.TypeNotFound)
	var page inboxhttp.ThreadPageJSON
	e.ok(req{method: "GET", path: "/api/threads", agent: "hotel-staff"}, 200, &page)
	if len(page.Threads) != 0 {
		t.Fatalf("the hotel sees the studio's threads: %+v", page.Threads)
	}
	e.ok(req{method: "GET", path: "/api/threads"}, 200, &page)
	if len(page.Threads) != 1 {
		t.Fatalf("the studio's list: %+v", page.Threads)
	}
}
