package inbox

import (
	"sync"
	"testing"
)

// Inbox.Shutdown and Close (no rule ID; issue 16). TestGate: work enters until the gate shuts, idle is closed once the work
// in flight has left and not before, and close may be called again.
func TestGate(t *testing.T) {
	idle := func(g *gate) bool {
		select {
		case <-g.idle:
			return true
		default:
			return false
		}
	}
	g := newGate()
	if !g.enter() || !g.enter() {
		t.Fatal("an open gate refused work")
	}
	g.close()
	if !g.closing() || idle(g) {
		t.Fatal("shut with work in flight: want quit closed, idle open")
	}
	if g.enter() {
		t.Fatal("a shut gate let work in")
	}
	g.leave()
	if idle(g) {
		t.Fatal("idle closed with one piece of work in flight")
	}
	g.leave()
	if !idle(g) {
		t.Fatal("idle open with no work in flight")
	}
	g.close() // again: no second close of a channel
	if g.enter() {
		t.Fatal("a shut gate let work in")
	}

	e := newGate()
	if e.close(); !idle(e) {
		t.Fatal("shut with no work: want idle closed")
	}
}

// TestGateConcurrent shuts a gate while goroutines enter and leave it:
// idle is closed once every piece of work let in has left (run it with
// -race).
func TestGateConcurrent(t *testing.T) {
	for range 50 {
		g := newGate()
		var wg sync.WaitGroup
		var mu sync.Mutex
		in := 0
		for range 4 {
			wg.Go(func() {
				for range 200 {
					if !g.enter() {
						return
					}
					mu.Lock()
					in++
					mu.Unlock()
					mu.Lock()
					in--
					mu.Unlock()
					g.leave()
				}
			})
		}
		<-g.close()
		mu.Lock()
		if in != 0 {
			t.Fatalf("idle closed with %d pieces of work in flight", in)
		}
		mu.Unlock()
		wg.Wait()
	}
}
