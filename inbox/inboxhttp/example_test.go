package inboxhttp_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/inboxhttp"
	"github.com/parleyhq/parley/inbox/memstore"
)

// A host mounts the handler on its own mux; the agent comes from the
// host's session (here a header its proxy sets).
func ExampleNew() {
	ib, _ := inbox.New(memstore.New(), inbox.Options{})
	defer ib.Close()
	_ = ib.Receive(context.Background(), channel.Inbound{Kind: channel.SMS, From: "+33612345678", Text: "Is the class on?", ProviderID: "SM1"})

	h, _ := inboxhttp.New(ib, inboxhttp.Options{
		Agent: func(r *http.Request) (inboxhttp.Agent, error) {
			if id := r.Header.Get("X-Staff-ID"); id != "" {
				return inboxhttp.Agent{ID: id}, nil
			}
			return inboxhttp.Agent{}, inboxhttp.ErrUnauthenticated
		},
	})
	mux := http.NewServeMux()
	mux.Handle("/inbox/", http.StripPrefix("/inbox", h))

	get := func(path, staff string) {
		r := httptest.NewRequest("GET", path, nil)
		if staff != "" {
			r.Header.Set("X-Staff-ID", staff)
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		body, _ := io.ReadAll(w.Body)
		fmt.Println(w.Code, w.Header().Get("Content-Type"), strings.TrimSpace(string(body)))
	}
	get("/inbox/api/counters", "lea")
	get("/inbox/api/counters", "")
	// Output:
	// 200 application/json {"attention":1,"contacts":1,"audiences":0,"events":0}
	// 401 application/problem+json {"type":"urn:parley:problem:unauthenticated","title":"Unauthenticated","status":401,"detail":"inboxhttp: unauthenticated","instance":"/inbox/api/counters"}
}
