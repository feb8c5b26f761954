package inbox

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// MarkTyping records that an agent is typing in a thread and publishes it
// (T16) to the subscribers of every Inbox on the store (an ephemeral event:
// it is not kept in the event feed). The indicator expires by itself after
// the typing TTL unless MarkTyping is called again; recording an outbound
// message by the agent ends it. It returns when the indicator expires.
func (in *Inbox) MarkTyping(ctx context.Context, threadID, agent string) (time.Time, error) {
	if agent == "" {
		return time.Time{}, fmt.Errorf("inbox: %w: empty agent", ErrInvalidArgument)
	}
	if _, err := in.Thread(ctx, threadID); err != nil {
		return time.Time{}, err
	}
	now := in.now()
	exp := now.Add(in.typingTL)
	e := Event{Type: EventTyping, ThreadID: threadID, Agent: agent, At: now, ExpiresAt: exp}
	in.typed(e)
	if err := in.publishEphemeral(ctx, e); err != nil {
		return time.Time{}, err
	}
	return exp, nil
}

// typed applies a typing event, this inbox's or another's, to the
// indicators Typers reads.
func (in *Inbox) typed(e Event) {
	if e.Type != EventTyping && e.Type != EventTypingStopped {
		return
	}
	now := in.now()
	in.typingMu.Lock()
	defer in.typingMu.Unlock()
	m := in.typing[e.ThreadID]
	if e.Type == EventTypingStopped {
		delete(m, e.Agent)
		if len(m) == 0 {
			delete(in.typing, e.ThreadID)
		}
		return
	}
	if m == nil {
		m = make(map[string]time.Time)
		in.typing[e.ThreadID] = m
	}
	if e.ExpiresAt.After(m[e.Agent]) {
		m[e.Agent] = e.ExpiresAt
	}
	for a, exp := range m { // drop indicators that expired without a reader
		if !now.Before(exp) {
			delete(m, a)
		}
	}
}

// Typers returns the agents typing in a thread now, sorted (T16), whichever
// Inbox on the store they type through. Expired indicators are dropped.
func (in *Inbox) Typers(threadID string) []string {
	now := in.now()
	in.typingMu.Lock()
	defer in.typingMu.Unlock()
	m := in.typing[threadID]
	var out []string
	for a, exp := range m {
		if now.Before(exp) {
			out = append(out, a)
		} else {
			delete(m, a)
		}
	}
	if len(m) == 0 {
		delete(in.typing, threadID)
	}
	slices.Sort(out)
	return out
}

// stopTyping ends an agent's indicator, on every Inbox on the store, when
// one is known here.
func (in *Inbox) stopTyping(ctx context.Context, threadID, agent string) {
	in.typingMu.Lock()
	_, was := in.typing[threadID][agent]
	in.typingMu.Unlock()
	if !was {
		return
	}
	e := Event{Type: EventTypingStopped, ThreadID: threadID, Agent: agent, At: in.now()}
	in.typed(e)
	if err := in.publishEphemeral(context.WithoutCancel(ctx), e); err != nil {
		in.log.Warn("inbox: the end of a typing indicator could not be published", "thread", threadID, "err", err)
	}
}

// Details returns the details pane of a thread's subject from the host's
// resolver (T19). Without a resolver it returns an error matching
// ErrNotFound.
func (in *Inbox) Details(ctx context.Context, threadID string) (Details, error) {
	t, err := in.Thread(ctx, threadID)
	if err != nil {
		return Details{}, err
	}
	if in.details == nil {
		return Details{}, fmt.Errorf("inbox: details of %s: no resolver: %w", t.Subject, ErrNotFound)
	}
	d, err := in.details.Details(ctx, t.Subject)
	if err != nil {
		return Details{}, fmt.Errorf("inbox: details of %s: %w", t.Subject, err)
	}
	return d, nil
}
