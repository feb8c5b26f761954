//go:build !linux

package inboxhttp_test

import (
	"io"
	"net"
	"sync"
)

// readStreams opens n event streams of the server at addr and reads each
// on a goroutine of its own.
func readStreams(addr string, n int, report func()) error {
	var mu sync.Mutex
	c := &counter{n: n, report: report}
	errs := make(chan error, n)
	for range n {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			return err
		}
		if _, err := io.WriteString(conn, "GET /api/events HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n"); err != nil {
			return err
		}
		go func() {
			var carry []byte
			ready := false
			buf := make([]byte, 4096)
			for {
				m, err := conn.Read(buf)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				carry = c.scan(carry, buf[:m], &ready)
				mu.Unlock()
			}
		}()
	}
	return <-errs
}
