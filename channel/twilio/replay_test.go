package twilio

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// heapAfterGC returns the live heap after a collection.
func heapAfterGC() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// The replay cache keeps a hash of each idempotency token, never the token:
// 100 tokens of 1 MiB sent with signed webhooks leave a few kilobytes
// behind, not 100 MiB, and are still recognised when replayed.
func TestReplayCacheKeepsHashesNotTokens(t *testing.T) {
	const account = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	h, err := NewHandler(HandlerConfig{AccountSID: account, AuthToken: "t", BaseURL: "https://h.example"}, nopReceiver{})
	if err != nil {
		t.Fatal(err)
	}
	post := func(token string, n int) int {
		sid := fmt.Sprintf("SM%032x", 1000+n)
		p := url.Values{"AccountSid": {account}, "MessageSid": {sid}, "MessageStatus": {"delivered"}, "To": {"+33612345678"}}
		r := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(p.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set(SignatureHeader, Signature("t", "https://h.example/hook", p))
		r.Header.Set(IdempotencyHeader, token)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	big := func(i int) string { return strconv.Itoa(i) + strings.Repeat("x", 1<<20) }
	before := heapAfterGC()
	for i := range 100 {
		if code := post(big(i), i); code != http.StatusOK {
			t.Fatalf("token %d: %d", i, code)
		}
	}
	kept := heapAfterGC() - before
	if kept > 4<<20 {
		t.Fatalf("the replay cache kept %d bytes for 100 tokens of 1 MiB", kept)
	}
	if h.replay.len() != 100 || !h.replay.contains(big(42), time.Now()) {
		t.Fatalf("tokens not remembered: %d", h.replay.len())
	}
	runtime.KeepAlive(h)
}

// The cache stays within its byte bound however many tokens pass through
// it: it holds at most ReplayMaxBytes / ReplayEntryBytes, forgets the
// oldest first, and its memory does not grow with the number of tokens it
// has forgotten.
func TestReplayCacheBoundedInBytes(t *testing.T) {
	const maxBytes = 1 << 20
	c := newReplayCache(time.Hour, maxBytes/ReplayEntryBytes)
	now := time.Unix(1_700_000_000, 0)
	before := heapAfterGC()
	limit := maxBytes / ReplayEntryBytes
	for i := range 20 * limit {
		c.add("token-"+strconv.Itoa(i), now)
		if c.len() > limit {
			t.Fatalf("%d tokens kept, at most %d", c.len(), limit)
		}
	}
	if kept := heapAfterGC() - before; kept > maxBytes {
		t.Fatalf("cache of %d bytes at most holds %d bytes", maxBytes, kept)
	}
	if c.contains("token-0", now) || !c.contains("token-"+strconv.Itoa(20*limit-1), now) {
		t.Fatal("not the oldest forgotten first")
	}
	runtime.KeepAlive(c)
}
