package channel

import (
	"fmt"
	"slices"
	"sync"
)

// Config is what a host says about a channel when it registers it.
type Config struct {
	// Identities are the sender identities of the channel (C9). At most one
	// may be marked Default; when none is, the first is the default. Each
	// identity's Kind is set to the registered kind.
	Identities []Identity
	// Capabilities overrides the capabilities of the channel. When nil, the
	// Sender's own (CapabilityReporter) are used, else DefaultCapabilities.
	Capabilities *Capabilities
}

type registration struct {
	sender     Sender
	caps       Capabilities
	identities []Identity
	def        int // index of the default identity, -1 when none
}

// Registry holds the channels a host has registered (C1). The zero value is
// not usable; create one with NewRegistry. It is safe for concurrent use.
type Registry struct {
	mu    sync.RWMutex
	kinds map[Kind]*registration
}

// NewRegistry returns an empty Registry.
func NewRegistry() *Registry { return &Registry{kinds: make(map[Kind]*registration)} }

// Register registers s as the channel of kind k, replacing any earlier
// registration of k. It fails with ErrUnknownKind for an invalid kind, with
// ErrInvalidMessage for a nil Sender, and with ErrNoIdentity when identity IDs
// repeat or more than one is marked Default.
func (r *Registry) Register(k Kind, s Sender, cfg Config) error {
	if !k.Valid() {
		return fmt.Errorf("channel: register: %w: %d", ErrUnknownKind, uint8(k))
	}
	if s == nil {
		return fmt.Errorf("channel: register %s: %w: nil sender", k, ErrInvalidMessage)
	}
	reg := &registration{sender: s, def: -1, identities: make([]Identity, len(cfg.Identities))}
	seen := make(map[string]bool, len(cfg.Identities))
	for i, id := range cfg.Identities {
		if id.ID == "" || seen[id.ID] {
			return fmt.Errorf("channel: register %s: %w: identity ID %q empty or repeated", k, ErrNoIdentity, id.ID)
		}
		seen[id.ID] = true
		if id.Default {
			if reg.def >= 0 {
				return fmt.Errorf("channel: register %s: %w: two default identities", k, ErrNoIdentity)
			}
			reg.def = i
		}
		id.Kind = k
		reg.identities[i] = id
	}
	if reg.def < 0 && len(reg.identities) > 0 {
		reg.def = 0
		reg.identities[0].Default = true
	}
	switch {
	case cfg.Capabilities != nil:
		reg.caps = *cfg.Capabilities
	default:
		if cr, ok := s.(CapabilityReporter); ok {
			reg.caps = cr.Capabilities()
		} else {
			reg.caps = DefaultCapabilities(k)
		}
	}
	reg.caps.Attachments.Types = slices.Clone(reg.caps.Attachments.Types)
	r.mu.Lock()
	r.kinds[k] = reg
	r.mu.Unlock()
	return nil
}

func (r *Registry) get(k Kind) (*registration, error) {
	r.mu.RLock()
	reg := r.kinds[k]
	r.mu.RUnlock()
	if reg == nil {
		if !k.Valid() {
			return nil, fmt.Errorf("channel: %w: %d", ErrUnknownKind, uint8(k))
		}
		return nil, fmt.Errorf("channel: %s %w", k, ErrNotRegistered)
	}
	return reg, nil
}

// Sender returns the Sender registered for k, or an error matching
// ErrNotRegistered (C1).
func (r *Registry) Sender(k Kind) (Sender, error) {
	reg, err := r.get(k)
	if err != nil {
		return nil, err
	}
	return reg.sender, nil
}

// Capabilities returns the capabilities of the channel registered for k, or
// an error matching ErrNotRegistered.
func (r *Registry) Capabilities(k Kind) (Capabilities, error) {
	reg, err := r.get(k)
	if err != nil {
		return Capabilities{}, err
	}
	c := reg.caps
	c.Attachments.Types = slices.Clone(c.Attachments.Types)
	return c, nil
}

// Registered reports whether a channel of kind k is registered.
func (r *Registry) Registered(k Kind) bool {
	_, err := r.get(k)
	return err == nil
}

// Kinds returns the registered kinds in the order of Kinds().
func (r *Registry) Kinds() []Kind {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []Kind
	for _, k := range Kinds() {
		if r.kinds[k] != nil {
			out = append(out, k)
		}
	}
	return out
}

// Identities returns a copy of the sender identities registered for k.
func (r *Registry) Identities(k Kind) ([]Identity, error) {
	reg, err := r.get(k)
	if err != nil {
		return nil, err
	}
	return slices.Clone(reg.identities), nil
}

// Identity returns the identity with the given ID for kind k, or the default
// identity when id is empty (C9). A kind registered without identities
// returns the zero Identity (with Kind set) for an empty id, letting the
// Sender use its own configured sender. An unknown ID gives an error matching
// ErrNoIdentity.
func (r *Registry) Identity(k Kind, id string) (Identity, error) {
	reg, err := r.get(k)
	if err != nil {
		return Identity{}, err
	}
	if id == "" {
		if reg.def < 0 {
			return Identity{Kind: k}, nil
		}
		return reg.identities[reg.def], nil
	}
	for _, ident := range reg.identities {
		if ident.ID == id {
			return ident, nil
		}
	}
	return Identity{}, fmt.Errorf("channel: %s: %w: %q", k, ErrNoIdentity, id)
}

// IdentityByAddress returns the identity of kind k whose Address is addr: the
// identity an inbound message was sent to. It reports false when none is.
func (r *Registry) IdentityByAddress(k Kind, addr string) (Identity, bool) {
	reg, err := r.get(k)
	if err != nil {
		return Identity{}, false
	}
	for _, ident := range reg.identities {
		if ident.Address == addr {
			return ident, true
		}
	}
	return Identity{}, false
}
