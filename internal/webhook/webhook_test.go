package webhook

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

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

func TestStatus(t *testing.T) {
	if Status(nil) != 200 || Status(fmt.Errorf("x: %w", channel.ErrInvalidMessage)) != 400 ||
		Status(errors.New("db down")) != 500 || Status(fmt.Errorf("x: %w", channel.ErrUnknownMessage)) != 500 {
		t.Fatal("status mapping")
	}
}
