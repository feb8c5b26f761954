package webhook

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
)

func TestReadBody(t *testing.T) {
	cases := []struct {
		body     string
		declared int64
		max      int64
		want     int
	}{
		{"hello", 5, 10, 200},
		{"hello world!", 12, 10, 413}, // declared too large: refused before reading
		{"hello world!", -1, 10, 413}, // streamed too large
		{"", 0, 10, 200},
	}
	for _, c := range cases {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(c.body))
		r.ContentLength = c.declared
		body, status, err := ReadBody(httptest.NewRecorder(), r, c.max)
		if status != c.want || (status == 200) != (err == nil) {
			t.Errorf("%q (declared %d, max %d): status %d, err %v", c.body, c.declared, c.max, status, err)
		}
		if status == 200 && string(body) != c.body {
			t.Errorf("body %q", body)
		}
	}
}

// Every kind of error a Receiver returns has one outcome; only an error a
// retry can fix answers 5xx. An unknown provider ID (after the Receiver's
// bounded wait) is acknowledged, and typed permanent errors are never
// retried, whatever else they match.
func TestClassify(t *testing.T) {
	cases := []struct {
		err  error
		want Outcome
	}{
		{nil, Stored},
		{fmt.Errorf("inbox: %w", channel.ErrInvalidMessage), Invalid},
		{fmt.Errorf("inbox: %w: NUL byte", channel.ErrPermanent), Invalid},
		{fmt.Errorf("inbox: status delivered for SM1: %w", channel.ErrUnknownMessage), Unknown},
		{errors.Join(channel.ErrUnknownMessage, channel.ErrInvalidMessage), Invalid},
		{errors.New("pgstore: connection reset"), Retry},
		{context.DeadlineExceeded, Retry},
		{context.Canceled, Retry},
		{fmt.Errorf("inbox: %w", channel.ErrTransient), Retry},
	}
	for _, c := range cases {
		if got := Classify(c.err); got != c.want {
			t.Errorf("Classify(%v) = %s, want %s", c.err, got, c.want)
		}
	}
	codes := map[Outcome]int{Stored: 200, Unknown: 200, Invalid: 422, Retry: 500}
	for o, want := range codes {
		if got := o.Code(422); got != want {
			t.Errorf("%s.Code = %d, want %d", o, got, want)
		}
	}
}

// A batch answers for its worst item: one unknown status never fails it,
// one store failure does.
func TestBatch(t *testing.T) {
	var b Batch
	if b.Outcome() != Stored {
		t.Fatal("empty batch")
	}
	b.Add(nil)
	b.Add(channel.ErrUnknownMessage)
	if b.Outcome() != Unknown || b.Outcome().Code(400) != 200 {
		t.Fatalf("unknown status failed its batch: %s", b.Outcome())
	}
	b.Add(channel.ErrInvalidMessage)
	if b.Outcome() != Invalid {
		t.Fatalf("outcome %s", b.Outcome())
	}
	b.Add(errors.New("db down"))
	b.Add(nil)
	if b.Outcome() != Retry || b.Count(Stored) != 2 || b.Count(Unknown) != 1 || b.Count(Invalid) != 1 || b.Count(Retry) != 1 {
		t.Fatalf("outcome %s, counts %v", b.Outcome(), b.counts)
	}
}

// A client that trickles its body one byte every 200 ms cannot hold a
// handler when the server sets a read timeout: the server's deadline ends
// the read, ReadBody answers 408, and the connection is closed before the
// client has sent its body.
func TestReadBodyTrickledBodyCutOff(t *testing.T) {
	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, code, err := ReadBody(w, r, 1<<20)
		done <- result{code, err}
		if err != nil {
			http.Error(w, http.StatusText(code), code)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	srv.Config.ReadHeaderTimeout = 300 * time.Millisecond
	srv.Config.ReadTimeout = 600 * time.Millisecond
	srv.Start()
	defer srv.Close()

	const bodyLen = 200 // 40 s at one byte per 200 ms
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n", bodyLen)
	sent := 0
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var got result
trickle:
	for sent < bodyLen {
		select {
		case got = <-done:
			break trickle
		case <-tick.C:
			if _, err := conn.Write([]byte{'x'}); err != nil {
				got = <-done
				break trickle
			}
			sent++
		}
	}
	if sent == bodyLen {
		t.Fatalf("the server read the whole trickled body (%d bytes) without cutting it off", sent)
	}
	if got.code != http.StatusRequestTimeout {
		t.Fatalf("ReadBody answered %d (%v), want 408", got.code, got.err)
	}
	// The server closes the connection: the client reads the answer, if it
	// was written, and then the end of the stream.
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	rest, err := io.ReadAll(bufio.NewReader(conn))
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("the server kept the connection open after cutting the body off (read %q)", rest)
		}
	}
}
