package inbox

import (
	"context"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/recipient"
)

// Host records, defined in package store so that in-memory directories need
// not import this package.
type (
	// AudienceInfo is a saved segment of contacts.
	AudienceInfo = store.AudienceInfo
	// EventInfo is a scheduled occurrence with attendees.
	EventInfo = store.EventInfo
	// Details is what the details pane shows about a subject (T19).
	Details = store.Details
	// ContactDetails, AudienceDetails and EventDetails are its parts.
	ContactDetails  = store.ContactDetails
	AudienceDetails = store.AudienceDetails
	EventDetails    = store.EventDetails
	// Booking is a guest's booking.
	Booking = store.Booking
	// AgentInfo is a staff user of the host.
	AgentInfo = store.AgentInfo
)

// Directory is how the inbox finds the host's contacts, audiences and events:
// they belong to the host. Every method returns an error matching
// ErrNotFound when there is no such record. Implementations are safe for
// concurrent use. memstore.Directory is an in-memory one.
type Directory interface {
	// Contact returns the contact with the given ID.
	Contact(ctx context.Context, id string) (recipient.Contact, error)
	// ContactByAddress returns the contact that owns an address of a kind:
	// an E.164 phone for SMS, MMS and WhatsApp, an email address for email
	// (T2).
	ContactByAddress(ctx context.Context, kind channel.Kind, address string) (recipient.Contact, error)
	// Audience returns the audience with the given ID. The inbox only
	// reads its Members (it marks opt-outs and facts on a copy of them), so
	// an implementation may return a slice it keeps rather than a copy.
	Audience(ctx context.Context, id string) (AudienceInfo, error)
	// Event returns the event with the given ID.
	Event(ctx context.Context, id string) (EventInfo, error)
}

// ContactIDFinder is implemented by a Directory that can name the contact
// owning an address without returning the whole contact. To find the
// thread of an inbound message's sender (T2) the inbox needs only the
// contact's ID: with a Directory that implements it, the inbox calls
// ContactIDByAddress there instead of ContactByAddress (memstore.Directory
// answers it without reading or copying the contact's record, a third of
// the time of a receive into one of a million threads). It must name the
// contact ContactByAddress would return, and return an error matching
// ErrNotFound when there is none.
type ContactIDFinder interface {
	ContactIDByAddress(ctx context.Context, kind channel.Kind, address string) (string, error)
}

// AgentDirectory is implemented by a Directory that knows the host's agents
// (staff users). With it, a message an agent writes (Draft.Author.Agent)
// can use the agent scope of templates (C5); without it that scope is not
// provided. Agent returns an error matching ErrNotFound for an unknown ID.
type AgentDirectory interface {
	Agent(ctx context.Context, id string) (AgentInfo, error)
}

// DetailsResolver supplies the details pane of a thread's subject (T19).
type DetailsResolver interface {
	Details(ctx context.Context, s Subject) (Details, error)
}

// snapshotOf asks the directory for a subject's searchable fields, as
// clean text (see ErrUnstorable). An unknown subject, or no directory, gives
// the fields the subject ID implies.
func (in *Inbox) snapshotOf(ctx context.Context, s Subject) (Snapshot, error) {
	snap, err := in.directorySnapshot(ctx, s)
	return cleanSnapshot(snap), err
}

func (in *Inbox) directorySnapshot(ctx context.Context, s Subject) (Snapshot, error) {
	if in.dir == nil || isAddressSubject(s) {
		return addressSnapshot(s), nil
	}
	switch s.Kind {
	case store.Contact:
		c, err := in.dir.Contact(ctx, s.ID)
		if err != nil {
			return Snapshot{}, err
		}
		return contactSnapshot(c), nil
	case store.Audience:
		a, err := in.dir.Audience(ctx, s.ID)
		if err != nil {
			return Snapshot{}, err
		}
		return Snapshot{Name: a.Name}, nil
	case store.Event:
		e, err := in.dir.Event(ctx, s.ID)
		if err != nil {
			return Snapshot{}, err
		}
		return Snapshot{Name: e.Name}, nil
	}
	return Snapshot{}, nil
}

func contactSnapshot(c recipient.Contact) Snapshot {
	return Snapshot{FirstName: c.FirstName, LastName: c.LastName, Email: c.Email, Phone: c.Phone}
}
