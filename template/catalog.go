package template

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Scope names a source of variable values that a send context may or may not provide: the
// contact a message goes to, the business account, a booking, an event, and so on (SPEC C5).
// Scopes are plain strings so hosts can add their own with [Catalog.RegisterScope].
type Scope string

// Built-in scopes. The root field name a template uses for each is given in brackets:
// a template writes `.GiftCard.Value` for a variable of [ScopeGiftCard].
const (
	ScopeContact     Scope = "contact"     // [Contact] the recipient (member, guest)
	ScopeAccount     Scope = "account"     // [Account] the business sending the message
	ScopeBooking     Scope = "booking"     // [Booking] a hotel or class booking
	ScopeEvent       Scope = "event"       // [Event] a scheduled class or session
	ScopeAudience    Scope = "audience"    // [Audience] a saved segment of contacts
	ScopeGiftCard    Scope = "giftcard"    // [GiftCard] a gift card
	ScopeAppointment Scope = "appointment" // [Appointment] a one-to-one appointment
	ScopeAgent       Scope = "agent"       // [Agent] the staff user who sends
)

// ScopeInfo describes a scope: its [Scope] value, the root field name templates use for it
// (an exported Go identifier such as "GiftCard"), and a label and description for pickers.
type ScopeInfo struct {
	Scope       Scope
	Root        string
	Label       string
	Description string
}

// Variable describes one variable of the catalog.
type Variable struct {
	// Path is the dotted path without the leading dot, rooted at a scope's root field:
	// "Contact.FirstName". Its first element must be the Root of Scope.
	Path string
	// Scope is the scope that provides the value.
	Scope Scope
	// Label and Description are shown in a variable picker.
	Label       string
	Description string
	// Example is the value used by previews (SPEC C4).
	Example any
}

// Token returns the text that inserts the variable in a template: "{{ .Contact.FirstName }}".
func (v Variable) Token() string { return "{{ ." + v.Path + " }}" }

// Catalog is the set of known scopes and variables. [NewCatalog] returns one with the
// built-in scopes and variables; hosts add their own with [Catalog.RegisterScope] and
// [Catalog.Register]. A Catalog is safe for concurrent use; registering while templates
// are checked is allowed. Register a scope before parsing the templates that use it: a
// template resolves its root names to scopes when it is parsed.
type Catalog struct {
	mu     sync.RWMutex
	scopes map[Scope]ScopeInfo
	roots  map[string]Scope
	vars   map[string]Variable
}

// NewCatalog returns a catalog holding the built-in scopes and variables.
func NewCatalog() *Catalog {
	c := &Catalog{
		scopes: make(map[Scope]ScopeInfo),
		roots:  make(map[string]Scope),
		vars:   make(map[string]Variable),
	}
	for _, s := range builtinScopes {
		c.scopes[s.Scope] = s
		c.roots[s.Root] = s.Scope
	}
	for _, v := range builtinVariables {
		c.vars[v.Path] = v
	}
	return c
}

var builtinScopes = [...]ScopeInfo{
	{ScopeContact, "Contact", "Contact", "The person the message is sent to (member, guest)."},
	{ScopeAccount, "Account", "Business", "The business that sends the message."},
	{ScopeBooking, "Booking", "Booking", "The booking the message is about."},
	{ScopeEvent, "Event", "Event", "The class or session the message is about."},
	{ScopeAudience, "Audience", "Audience", "The saved segment the message is sent to."},
	{ScopeGiftCard, "GiftCard", "Gift card", "The gift card the message is about."},
	{ScopeAppointment, "Appointment", "Appointment", "The appointment the message is about."},
	{ScopeAgent, "Agent", "Agent", "The staff member who sends the message."},
}

var builtinVariables = [...]Variable{
	{"Contact.FirstName", ScopeContact, "First name", "The contact's first name.", "Hélène"},
	{"Contact.LastName", ScopeContact, "Last name", "The contact's last name.", "Martin"},
	{"Contact.FullName", ScopeContact, "Full name", "The contact's first and last name.", "Hélène Martin"},
	{"Contact.Email", ScopeContact, "Email", "The contact's email address.", "helene@example.com"},
	{"Contact.Phone", ScopeContact, "Phone", "The contact's phone number (E.164).", "+33612345678"},
	{"Contact.Balance", ScopeContact, "Account balance", "The contact's account balance.", "25.00 €"},
	{"Account.Name", ScopeAccount, "Business name", "The name of the business.", "Studio Lumière"},
	{"Account.Phone", ScopeAccount, "Business phone", "The business's phone number.", "+33140000000"},
	{"Account.Email", ScopeAccount, "Business email", "The business's email address.", "hello@studio.example"},
	{"Account.Address", ScopeAccount, "Business address", "The business's postal address.", "12 rue de la Paix, Paris"},
	{"Account.Website", ScopeAccount, "Website", "The business's website.", "https://studio.example"},
	{"Booking.Reference", ScopeBooking, "Booking reference", "The booking's reference.", "BK-1042"},
	{"Booking.CheckIn", ScopeBooking, "Check-in", "The check-in date and time.", "Fri 14 March, 15:00"},
	{"Booking.CheckOut", ScopeBooking, "Check-out", "The check-out date and time.", "Sun 16 March, 11:00"},
	{"Booking.Room", ScopeBooking, "Room", "The room or resource booked.", "Room 12"},
	{"Booking.Guests", ScopeBooking, "Guests", "The number of guests.", 2},
	{"Booking.Status", ScopeBooking, "Booking status", "Booked, cancelled or waitlist.", "booked"},
	{"Event.Name", ScopeEvent, "Event name", "The name of the class or session.", "Morning yoga"},
	{"Event.Start", ScopeEvent, "Start", "The date and time the event starts.", "Mon 17 March, 09:00"},
	{"Event.End", ScopeEvent, "End", "The date and time the event ends.", "Mon 17 March, 10:00"},
	{"Event.Teacher", ScopeEvent, "Teacher", "The teacher or host of the event.", "Camille"},
	{"Event.Room", ScopeEvent, "Room", "The room where the event takes place.", "Studio A"},
	{"Event.Address", ScopeEvent, "Address", "The address of the event.", "12 rue de la Paix, Paris"},
	{"Event.OnlineURL", ScopeEvent, "Online link", "The link to join an online event.", "https://meet.example/yoga"},
	{"Audience.Name", ScopeAudience, "Audience name", "The name of the saved segment.", "Members with 10-class pass"},
	{"Audience.MemberCount", ScopeAudience, "Member count", "The number of contacts in the segment.", 128},
	{"GiftCard.Code", ScopeGiftCard, "Gift card code", "The code to redeem the gift card.", "GIFT-7Q2X"},
	{"GiftCard.Value", ScopeGiftCard, "Gift card value", "The value of the gift card.", "50.00 €"},
	{"GiftCard.Balance", ScopeGiftCard, "Gift card balance", "The remaining balance of the gift card.", "35.00 €"},
	{"GiftCard.ExpiresAt", ScopeGiftCard, "Gift card expiry", "The date the gift card expires.", "31 December"},
	{"GiftCard.Sender", ScopeGiftCard, "Gift card sender", "The person who offered the gift card.", "Paul"},
	{"Appointment.Service", ScopeAppointment, "Service", "The service booked.", "Massage, 60 min"},
	{"Appointment.Start", ScopeAppointment, "Start", "The date and time the appointment starts.", "Tue 18 March, 14:30"},
	{"Appointment.Staff", ScopeAppointment, "Staff", "The staff member who gives the appointment.", "Léa"},
	{"Appointment.Location", ScopeAppointment, "Location", "Where the appointment takes place.", "Cabin 2"},
	{"Agent.FirstName", ScopeAgent, "Agent first name", "The first name of the sending agent.", "Sam"},
	{"Agent.FullName", ScopeAgent, "Agent full name", "The full name of the sending agent.", "Sam Durand"},
	{"Agent.Signature", ScopeAgent, "Agent signature", "The sending agent's signature.", "Sam, front desk"},
}

// RegisterScope adds a scope. Its Root must be an exported Go identifier (it is the first
// element of the variables' paths). It returns an error wrapping [ErrInvalid] when the scope
// or root is malformed and [ErrDuplicate] when the scope or root is already registered.
func (c *Catalog) RegisterScope(s ScopeInfo) error {
	if s.Scope == "" || strings.TrimSpace(string(s.Scope)) != string(s.Scope) {
		return fmt.Errorf("template: register scope %q: %w: scope must be a non-blank word", s.Scope, ErrInvalid)
	}
	if !isExportedIdent(s.Root) {
		return fmt.Errorf("template: register scope %q: %w: root %q is not an exported identifier", s.Scope, ErrInvalid, s.Root)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.scopes[s.Scope]; ok {
		return fmt.Errorf("template: register scope %q: %w", s.Scope, ErrDuplicate)
	}
	if _, ok := c.roots[s.Root]; ok {
		return fmt.Errorf("template: register scope %q: root %q: %w", s.Scope, s.Root, ErrDuplicate)
	}
	c.scopes[s.Scope] = s
	c.roots[s.Root] = s.Scope
	return nil
}

// Register adds a variable. Its scope must be registered and its path must start with that
// scope's root, each element an exported identifier. It returns an error wrapping
// [ErrInvalid], [ErrUnknownScope] or [ErrDuplicate].
func (c *Catalog) Register(v Variable) error {
	elems := strings.Split(v.Path, ".")
	if len(elems) < 2 {
		return fmt.Errorf("template: register variable %q: %w: path needs a root and a field", v.Path, ErrInvalid)
	}
	for _, e := range elems {
		if !isExportedIdent(e) {
			return fmt.Errorf("template: register variable %q: %w: %q is not an exported identifier", v.Path, ErrInvalid, e)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	info, ok := c.scopes[v.Scope]
	if !ok {
		return fmt.Errorf("template: register variable %q: scope %q: %w", v.Path, v.Scope, ErrUnknownScope)
	}
	if elems[0] != info.Root {
		return fmt.Errorf("template: register variable %q: %w: scope %q has root %q", v.Path, ErrInvalid, v.Scope, info.Root)
	}
	if _, ok := c.vars[v.Path]; ok {
		return fmt.Errorf("template: register variable %q: %w", v.Path, ErrDuplicate)
	}
	c.vars[v.Path] = v
	return nil
}

// Lookup returns the variable registered under path ("Contact.FirstName"; a leading dot is
// accepted).
func (c *Catalog) Lookup(path string) (Variable, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.vars[strings.TrimPrefix(path, ".")]
	return v, ok
}

// ScopeOf returns the scope whose root field name is root ("GiftCard" → [ScopeGiftCard]).
func (c *Catalog) ScopeOf(root string) (Scope, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	s, ok := c.roots[root]
	return s, ok
}

// Scopes returns every registered scope, sorted by scope name.
func (c *Catalog) Scopes() []ScopeInfo {
	c.mu.RLock()
	out := make([]ScopeInfo, 0, len(c.scopes))
	for _, s := range c.scopes {
		out = append(out, s)
	}
	c.mu.RUnlock()
	slices.SortFunc(out, func(a, b ScopeInfo) int { return strings.Compare(string(a.Scope), string(b.Scope)) })
	return out
}

// Variables returns the variables a send context that provides the given scopes can use,
// sorted by path: the list a variable picker offers (SPEC C5). With no scopes it returns
// every variable.
func (c *Catalog) Variables(provided ...Scope) []Variable {
	c.mu.RLock()
	out := make([]Variable, 0, len(c.vars))
	for _, v := range c.vars {
		if len(provided) == 0 || slices.Contains(provided, v.Scope) {
			out = append(out, v)
		}
	}
	c.mu.RUnlock()
	slices.SortFunc(out, func(a, b Variable) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// Examples returns the example values of every variable as [Values], one nested
// map[string]any per scope: the data previews render with (SPEC C4).
func (c *Catalog) Examples() Values {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make(Values, len(c.scopes))
	for _, v := range c.vars {
		elems := strings.Split(v.Path, ".")
		m, _ := out[v.Scope].(map[string]any)
		if m == nil {
			m = make(map[string]any)
			out[v.Scope] = m
		}
		for _, e := range elems[1 : len(elems)-1] {
			next, ok := m[e].(map[string]any)
			if !ok {
				next = make(map[string]any)
				m[e] = next
			}
			m = next
		}
		m[elems[len(elems)-1]] = v.Example
	}
	return out
}

// Insert inserts the token of the variable at path into text at cursor, counted in
// characters (runes) and clamped to the text, and returns the new text and the cursor
// placed just after the token. It returns an error wrapping [ErrUnknownVariable] when
// path is not in the catalog.
func (c *Catalog) Insert(text string, cursor int, path string) (string, int, error) {
	v, ok := c.Lookup(path)
	if !ok {
		return text, cursor, fmt.Errorf("template: insert %q: %w", path, ErrUnknownVariable)
	}
	n := utf8.RuneCountInString(text)
	cursor = max(0, min(cursor, n))
	at := len(text)
	i := 0
	for b := range text {
		if i == cursor {
			at = b
			break
		}
		i++
	}
	tok := v.Token()
	return text[:at] + tok + text[at:], cursor + utf8.RuneCountInString(tok), nil
}

// rootsSnapshot returns a copy of the root → scope mapping.
func (c *Catalog) rootsSnapshot() map[string]Scope {
	c.mu.RLock()
	defer c.mu.RUnlock()
	m := make(map[string]Scope, len(c.roots))
	for k, v := range c.roots {
		m[k] = v
	}
	return m
}

// known reports whether path or one of its prefixes (a variable whose value has fields of
// its own) is a registered variable.
func (c *Catalog) known(path string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for {
		if _, ok := c.vars[path]; ok {
			return true
		}
		i := strings.LastIndexByte(path, '.')
		if i < 0 {
			return false
		}
		path = path[:i]
	}
}

func isExportedIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if i == 0 && !unicode.IsUpper(r) {
			return false
		}
		if r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}
