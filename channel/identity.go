package channel

// Identity is a sender identity (C9): a phone number, an alphanumeric sender
// ID, a WhatsApp business number or an email address that messages of one
// kind are sent from. A host may have several per kind, one of them the
// default.
type Identity struct {
	// ID is the host's stable identifier for the identity, unique per kind.
	ID string
	// Kind is the channel kind this identity sends on.
	Kind Kind
	// Address is what the provider needs as the sender: an E.164 number, an
	// alphanumeric ID, an email address, a provider's sender or service ID.
	Address string
	// Name is a display name (the "From" name of an email, say).
	Name string
	// Default marks the identity used when a send names none.
	Default bool
	// TwoWay reports whether replies can reach this identity (R7). An
	// alphanumeric SMS sender, or a number in a country without two-way SMS,
	// cannot receive replies.
	TwoWay bool
	// Pool names a shared number pool the identity belongs to, if any. With a
	// pool, a contact's thread stays one thread whichever number of the pool
	// sent or received (C9).
	Pool string
}
