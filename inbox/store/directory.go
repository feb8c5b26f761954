package store

import (
	"time"

	"github.com/parleyhq/parley/recipient"
)

// AudienceInfo is a host's saved segment of contacts ("smartlist"), as the
// host's directory returns it.
type AudienceInfo struct {
	ID          string
	Name        string
	Description string
	// Filters names the kinds of filter the segment is built from (T19).
	Filters []string
	// Members are the contacts of the segment (R3).
	Members []recipient.Contact
}

// EventInfo is a scheduled occurrence with attendees (a class, a session),
// as the host's directory returns it. Its fields are also the event scope
// of templates sent to the event (C5): a blank one is a variable without a
// value.
type EventInfo struct {
	ID   string
	Name string
	// Start and End are when it takes place; TimeZone is the venue's IANA
	// zone, the one templates print the times in.
	Start    time.Time
	End      time.Time
	TimeZone string
	// Teacher, Room and Address say who gives it and where; OnlineURL is
	// the link to join an online event.
	Teacher   string
	Room      string
	Address   string
	OnlineURL string
	// Attendees are its booked, waitlisted and cancelled attendees (R4).
	Attendees []recipient.Attendee
}

// AgentInfo is a staff user of the host, as a directory that knows agents
// returns it: the agent scope of the templates an agent sends (C5).
type AgentInfo struct {
	ID        string
	FirstName string
	LastName  string
	// Signature closes the agent's messages ("Léa, front desk").
	Signature string
}

// Booking is a guest's booking, shown in a contact's details (T19).
type Booking struct {
	ID       string
	CheckIn  time.Time
	CheckOut time.Time
	Room     string
	Status   string
}

// Details is what the details pane shows about a thread's subject (T19).
// The host fills the part that matches the subject's kind.
type Details struct {
	Contact  *ContactDetails
	Audience *AudienceDetails
	Event    *EventDetails
}

// ContactDetails are a contact's details (T19).
type ContactDetails struct {
	ID               string
	Name             string
	Phone            string
	Email            string
	SignedUp         time.Time
	BirthDate        time.Time
	Barcode          string
	Address          string
	EmergencyContact string
	Tags             []string
	// Balance is the account balance in minor units of Currency.
	Balance        int64
	Currency       string
	UnpaidInvoices int
	Documents      []string
	Notes          string
	// Bookings are a guest's bookings with check-in and check-out.
	Bookings []Booking
}

// AudienceDetails are an audience's details (T19).
type AudienceDetails struct {
	Members     int
	Filters     []string
	Description string
}

// EventDetails are an event's details (T19).
type EventDetails struct {
	Start     time.Time
	Booked    int
	Capacity  int
	Waitlist  int
	Level     string
	Online    bool
	Teacher   string
	Room      string
	Address   string
	Cancelled int
}
