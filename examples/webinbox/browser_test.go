package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/parleyhq/parley/inbox/inboxhttp"
	"github.com/parleyhq/parley/recipient"
)

// chromium returns the path of a Chromium to drive, or skips the test when
// there is none (fails with PARLEY_REQUIRE_CHROMIUM=1, as in CI).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "Chromium not found: install it (apt-get install -y chromium) to run the browser tests"
	if os.Getenv("PARLEY_REQUIRE_CHROMIUM") == "1" {
		t.Fatal(msg + " (PARLEY_REQUIRE_CHROMIUM=1)")
	}
	t.Skip(msg)
	return ""
}

// browser starts a headless Chromium for the test.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox, // as root in CI
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 900),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	ctx, cancel = context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// screenshot saves the page under the test's artifact directory.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(t.ArtifactDir(), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// waitJS waits until a JavaScript expression is true.
func waitJS(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	ok, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil || !ok {
		html, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('parley-inbox').innerText`))
		t.Fatalf("waiting for %s (%s): %v\npage text:\n%s", what, expr, err, html)
	}
}

func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// text returns the text of the first element sel matches.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// threadOf returns the ID of a contact's thread from the API.
func threadOf(t *testing.T, base, subjectID string) string {
	t.Helper()
	res, err := http.Get(base + "/studio/api/threads?lifecycle=any&limit=100")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var page inboxhttp.ThreadPageJSON
	if err := json.NewDecoder(res.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	for _, th := range page.Threads {
		if th.Subject.ID == subjectID {
			return th.ID
		}
	}
	t.Fatalf("no thread for %s", subjectID)
	return ""
}

func contactByID(t *testing.T, tn *tenant, id string) recipient.Contact {
	t.Helper()
	c := tn.contact(id)
	if c.ID == "" {
		t.Fatalf("no contact %s", id)
	}
	return c
}

// The web inbox used as a person would, in a real browser: the list, a
// thread, a reply whose status rises as the channel replays its webhooks,
// an inbound message that moves the list and the badge without a reload, a
// template whose variable the thread cannot provide, and the SMS counter.
func TestWebInboxInBrowser(t *testing.T) {
	ctx := browser(t)
	d, err := newDemo(time.Now)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d.mux)
	t.Cleanup(func() {
		d.close() // ends the event streams
		srv.CloseClientConnections()
		srv.Close()
	})
	sel := func(id string) string { return fmt.Sprintf(`.pi-thread[data-id=%q]`, id) }

	// The thread list (T3): unread badges, the attention count in the title.
	run(t, ctx, "load", chromedp.Navigate(srv.URL+"/studio/?lang=en"), chromedp.WaitVisible(chromedp.CSS(`.pi-thread`)))
	waitJS(t, ctx, "the attention badge", `document.querySelector('[data-role=attention]').textContent === '3' && document.title.startsWith('(3)')`)
	waitJS(t, ctx, "the live stream", `document.querySelector('.pi-live').dataset.up === 'true'`)
	screenshot(t, ctx, "01-thread-list.png")

	// Open Ana's thread and reply.
	ana := threadOf(t, srv.URL, "m-ana")
	run(t, ctx, "open Ana's thread", chromedp.Click(chromedp.CSS(sel(ana))),
		chromedp.WaitVisible(chromedp.CSS(`[data-role=messages] .pi-msg`)))
	waitJS(t, ctx, "the conversation", `document.querySelector('[data-role=thread-name]').textContent.startsWith('Ana Silva')`)
	waitJS(t, ctx, "Ana's thread read", `document.querySelector('[data-role=attention]').textContent === '2'`)
	run(t, ctx, "type a reply", chromedp.Click(chromedp.CSS(`[data-role=body]`)), chromedp.SendKeys(chromedp.CSS(`[data-role=body]`), "See you at 18h!"))
	waitJS(t, ctx, "Send enabled", `!document.querySelector('[data-role=send]').disabled`)
	run(t, ctx, "send", chromedp.Click(chromedp.CSS(`[data-role=send]`)))
	last := `[...document.querySelectorAll('[data-role=messages] .pi-outbound')].pop()`
	waitJS(t, ctx, "the reply in the conversation", last+`?.querySelector('.pi-text').textContent === 'See you at 18h!'`)
	waitJS(t, ctx, "the reply's first status", `['validated','sent'].includes(`+last+`.querySelector('[data-role=status]').dataset.status)`)
	// The channel replays its webhooks: the status rises on screen (S2).
	d.studio.flush()
	waitJS(t, ctx, "the reply delivered", last+`.querySelector('[data-role=status]').dataset.status === 'delivered'`)
	screenshot(t, ctx, "02-reply-delivered.png")

	// An inbound message in another thread: the badge and the list order
	// change without a reload (T3, T15).
	tom := threadOf(t, srv.URL, "m-tom")
	if err := d.studio.receive(context.Background(), contactByID(t, d.studio, "m-tom"), "Any spot left tonight?", time.Now()); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "Tom's thread first", fmt.Sprintf(`document.querySelector('.pi-thread').dataset.id === %q`, tom))
	waitJS(t, ctx, "Tom's unread badge", fmt.Sprintf(`document.querySelector(%q + ' .pi-count')?.textContent === '1'`, sel(tom)))
	waitJS(t, ctx, "the attention badge up", `document.querySelector('[data-role=attention]').textContent === '3' && document.title.startsWith('(3)')`)
	screenshot(t, ctx, "03-inbound-live.png")

	// A template with a variable an event thread cannot provide (C5): the
	// problem shows and Send stays disabled.
	ev := threadOf(t, srv.URL, "e-pilates")
	run(t, ctx, "open the event thread", chromedp.Click(chromedp.CSS(sel(ev))))
	waitJS(t, ctx, "the event's composer", `document.querySelector('[data-role=thread-name]').textContent.startsWith('Pilates 18h') && !!document.querySelector('[data-group=booked]')`)
	run(t, ctx, "choose the booked attendees", chromedp.Click(chromedp.CSS(`[data-group=booked]`)))
	run(t, ctx, "choose the gift card template", chromedp.SetValue(chromedp.CSS(`[data-role=template]`), "gift"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-role=template]').dispatchEvent(new Event('change'))`))
	waitJS(t, ctx, "the preflight problem", `!!document.querySelector('[data-role=problems] [data-code=template-scope-unavailable]')`)
	problem := text(t, ctx, `[data-code=template-scope-unavailable]`)
	if !strings.Contains(problem, ".GiftCard.Value") || !strings.Contains(problem, "text 1:") {
		t.Fatalf("problem shown: %q", problem)
	}
	waitJS(t, ctx, "Send disabled", `document.querySelector('[data-role=send]').disabled`)
	screenshot(t, ctx, "04-template-problem.png")

	// The SMS counter (C6): GSM-7, then UCS-2 once an emoji is typed.
	run(t, ctx, "no template", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector('[data-role=template]');
		s.value = ''; s.dispatchEvent(new Event('change')) })()`))
	waitJS(t, ctx, "an empty body", `document.querySelector('[data-role=body]').value === '' && !document.querySelector('[data-role=body]').disabled`)
	run(t, ctx, "type",
		chromedp.Click(chromedp.CSS(`[data-role=body]`)), chromedp.SendKeys(chromedp.CSS(`[data-role=body]`), "Room 2 tonight"))
	waitJS(t, ctx, "GSM-7", `document.querySelector('[data-role=sms-counter]').dataset.encoding === 'GSM-7'`)
	waitJS(t, ctx, "Send enabled for the booked attendees", `!document.querySelector('[data-role=send]').disabled`)
	run(t, ctx, "type an emoji", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, input.InsertText, input.InsertTextParams{Text: " 🙂"})
		return err
	}))
	waitJS(t, ctx, "UCS-2", `document.querySelector('[data-role=sms-counter]').dataset.encoding === 'UCS-2'`)
	counter := text(t, ctx, `[data-role=sms-counter]`)
	if !strings.Contains(counter, "UCS-2") || !strings.Contains(counter, "1 segment") {
		t.Fatalf("counter: %q", counter)
	}
	screenshot(t, ctx, "05-sms-counter.png")

	// Without a mouse: the list takes arrows and Enter.
	second, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelectorAll('.pi-thread')[1].dataset.id`))
	if err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "focus the list", chromedp.Focus(chromedp.CSS(`.pi-thread`)), chromedp.KeyEvent(kb.ArrowDown))
	waitJS(t, ctx, "the focus on the second thread", fmt.Sprintf(`document.activeElement.dataset.id === %q`, second))
	run(t, ctx, "open it with Enter", chromedp.KeyEvent(kb.Enter))
	waitJS(t, ctx, "the second thread open by keyboard", fmt.Sprintf(`document.querySelector('.pi-thread[aria-selected=true]')?.dataset.id === %q`, second))
	waitJS(t, ctx, "the composer focused", `document.activeElement.dataset.role === 'body'`)
}

// The French strings (seed 000–002 are French help articles).
func TestWebInboxInFrench(t *testing.T) {
	ctx := browser(t)
	d, err := newDemo(time.Now)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d.mux)
	t.Cleanup(func() {
		d.close() // ends the event streams
		srv.CloseClientConnections()
		srv.Close()
	})
	run(t, ctx, "load", chromedp.Navigate(srv.URL+"/hotel/?lang=fr"), chromedp.WaitVisible(chromedp.CSS(`.pi-thread`)))
	heading := text(t, ctx, `.pi-threads h2`)
	search, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('[data-role=search]').placeholder`))
	if err != nil {
		t.Fatal(err)
	}
	if heading != "Boîte de réception" || !strings.Contains(search, "téléphone") {
		t.Fatalf("French page: heading %q, search %q", heading, search)
	}
	screenshot(t, ctx, "hotel-fr.png")
}
