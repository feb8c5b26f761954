package inbox

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// MarkTyping records that an agent is typing in a thread and publishes it
// (T16). The indicator expires by itself after the typing TTL unless
// MarkTyping is called again; recording an outbound message by the agent
// ends it. It returns when the indicator expires.
func (in *Inbox) MarkTyping(ctx context.Context, threadID, agent string) (time.Time, error) {
	if agent == "" {
		return time.Time{}, fmt.Errorf("inbox: %w: empty agent", ErrInvalidArgument)
	}
	if _, err := in.Thread(ctx, threadID); err != nil {
		return time.Time{}, err
	}
	now := in.now()
	exp := now.Add(in.typingTL)
	in.typingMu.Lock()
	m := in.typing[threadID]
	if m == nil {
		m = make(map[string]time.Time)
		in.typing[threadID] = m
	}
	m[agent] = exp
	for a, e := range m { // drop indicators that expired without a reader
		if !now.Before(e) {
			delete(m, a)
		}
	}
	in.typingMu.Unlock()
	in.publish(Event{Type: EventTyping, ThreadID: threadID, Agent: agent, At: now, ExpiresAt: exp})
	return exp, nil
}

// Typers returns the agents typing in a thread now, sorted (T16). Expired
// indicators are dropped.
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

func (in *Inbox) stopTyping(threadID, agent string) {
	in.typingMu.Lock()
	m := in.typing[threadID]
	_, was := m[agent]
	if was {
		delete(m, agent)
		if len(m) == 0 {
			delete(in.typing, threadID)
		}
	}
	in.typingMu.Unlock()
	if was {
		in.publish(Event{Type: EventTypingStopped, ThreadID: threadID, Agent: agent, At: in.now()})
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
