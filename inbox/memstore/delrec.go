package memstore

import (
	"math"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/status"
)

// delRec is a stored delivery, compact: a broadcast keeps one per
// recipient, hundreds of thousands of them. The fields most deliveries
// have are inline, times as stamps (see locTable), the status history
// packed into pointer-free changes (histChange), inline up to
// inlineHistory of them (a status report then reads and writes the record
// alone, one place in memory among hundreds of thousands); what few
// deliveries have (a subject, an HTML body, a reason, a
// schedule, booking dates) hangs off more, nil while all of it is zero.
// MessageID and ThreadID are those of msg (store.ThreadWrite.Check and
// WriteDelivery keep them so); Identity and Campaign are read from msg
// when they are its own. value rebuilds the store.Delivery.
type delRec struct {
	// What a status report reads comes first (see MergeStatus): its
	// first 32 bytes, then the history. Records are 224 bytes long, side
	// by side in arrays that start a page, so each starts at a multiple
	// of 32 bytes: the first 32 are in one cache line, and with the
	// history in two.
	current    status.Status
	hlen       uint8 // changes in hist + 1; 0: no history (nil)
	flags      delFlags
	kind       channel.Kind
	pos        uint32 // its index in its message's msgOut.recs
	msg        *msgRec
	id         string // in the arena
	hist       [inlineHistory]histChange
	providerID string // in the arena
	more       *delMore
	version    int64
	contactID  string
	address    string
	text       string
	created    int64 // stamp of CreatedAt
	sending    int64 // stamp of Sending
	micros     int64 // Cost.Micros
	attempts   int32
	segments   int32 // SMS.Segments
	units      int32 // SMS.Units
	sendPos    int32 // its place in the store's sending + 1; 0: not there
	createdLoc uint8
	sendingLoc uint8
	encoding   uint8 // SMS.Encoding: its number in the store's names + 1, 0 for ""
	currency   uint8 // Cost.Currency, the same way
}

// inlineHistory is the number of status changes a delRec holds inline: a
// delivery's first change, its send's outcome and two provider reports
// (sent, delivered).
const inlineHistory = 4

// delFlags say where a delRec's fields are when not inline.
type delFlags uint8

const (
	// identity and campaign are the message's (msg.identity and its
	// broadcast name); without the flag they are more's.
	ownIdentity delFlags = 1 << iota
	ownCampaign
	// exactTimes: CreatedAt and Sending are more's (a time outside the
	// stamps' range or location table).
	exactTimes
	// fullHistory: the history is more.history, unpacked, for the same
	// reason.
	fullHistory
	// longHistory: the history, packed, is more.hist (longer than
	// inlineHistory).
	longHistory
	// wide: Attempts, SMS and Cost are more's (a number beyond int32, or
	// the names table full).
	wide
)

// delMore holds the fields few deliveries have.
type delMore struct {
	identity, campaign    string
	subject, html, reason string
	anchor, anchorRule    string
	dueAt, claimedUntil   time.Time
	checkIn, checkOut     time.Time
	createdAt, sending    time.Time       // with exactTimes
	history               []status.Change // with fullHistory
	hist                  []histChange    // with longHistory
	attempts              int             // with wide
	sms                   store.SMSInfo   // with wide
	cost                  channel.Cost    // with wide
}

// histChange is a status.Change packed without pointers: its time as a
// stamp, its provider texts as their number in the store's changeTexts.
type histChange struct {
	at      int64
	text    uint32 // changeTexts[text-1]; 0: all empty
	status  status.Status
	loc     uint8
	arrived bool
}

// changeText is the provider's texts of a change (status.Change's Raw,
// ErrorCode and ErrorMessage): a store sees few distinct ones.
type changeText struct{ raw, code, message string }

// delTables are the store's tables of the values deliveries share.
type delTables struct {
	texts    []changeText
	textNums map[changeText]uint32 // number in texts + 1
	// recent are the numbers textNum returned last, tried before the map:
	// a store sees few distinct texts, and a history unpacked to be merged
	// holds the table's own strings (compared without reading them)
	recent   [4]uint32
	next     uint8            // the entry of recent replaced next
	names    []string         // SMS encodings, currencies
	nameNums map[string]uint8 // number in names + 1
}

// textNum returns the number of c's texts, adding them. Call it under the
// write lock.
func (s *Store) textNum(c *status.Change) uint32 {
	if c.Raw == "" && c.ErrorCode == "" && c.ErrorMessage == "" {
		return 0
	}
	t := &s.delTabs
	for _, n := range t.recent {
		if n != 0 {
			if r := &t.texts[n-1]; r.raw == c.Raw && r.code == c.ErrorCode && r.message == c.ErrorMessage {
				return n
			}
		}
	}
	k := changeText{c.Raw, c.ErrorCode, c.ErrorMessage}
	if n, ok := t.textNums[k]; ok {
		t.remember(n)
		return n
	}
	if t.textNums == nil {
		t.textNums = make(map[changeText]uint32)
	}
	k = changeText{s.strs.keep(k.raw), s.strs.keep(k.code), s.strs.keep(k.message)}
	t.texts = append(t.texts, k)
	n := uint32(len(t.texts))
	t.textNums[k] = n
	t.remember(n)
	return n
}

// remember makes n one of the recent text numbers.
func (t *delTables) remember(n uint32) {
	t.recent[t.next] = n
	t.next = (t.next + 1) % uint8(len(t.recent))
}

// nameNum returns the number of name, adding it; false when the table is
// full. Call it under the write lock.
func (s *Store) nameNum(name string) (uint8, bool) {
	if name == "" {
		return 0, true
	}
	t := &s.delTabs
	if n, ok := t.nameNums[name]; ok {
		return n, true
	}
	if len(t.names) == math.MaxUint8 {
		return 0, false
	}
	if t.nameNums == nil {
		t.nameNums = make(map[string]uint8)
	}
	name = s.strs.keep(name)
	t.names = append(t.names, name)
	t.nameNums[name] = uint8(len(t.names))
	return uint8(len(t.names)), true
}

// sameName is nameNum when the record held name n before: a write that
// keeps its SMS encoding and currency (most) looks neither up.
func (s *Store) sameName(n uint8, name string) (uint8, bool) {
	if name == s.name(n) {
		return n, true
	}
	return s.nameNum(name)
}

func (s *Store) name(n uint8) string {
	if n == 0 {
		return ""
	}
	return s.delTabs.names[n-1]
}

// pack stores d as r's state, r being a delivery of message msg. Strings
// r holds already are kept; the ID and provider ID are copied to the arena
// otherwise. r's history array and more are reused. Call it under the
// write lock.
func (s *Store) pack(r *delRec, d *store.Delivery, msg *msgRec) {
	old := *r
	*r = delRec{msg: msg, contactID: d.ContactID, address: d.Address, text: d.Text, version: d.Version,
		kind: d.Kind, current: d.Status.Current, micros: d.Cost.Micros, sendPos: old.sendPos, pos: old.pos}
	if d.ProviderID != "" && d.ProviderID != old.providerID {
		// a status report reads the provider ID and then the ID (its
		// event's): side by side, they are read from memory at once
		r.id, r.providerID = s.strs.keepPair(d.ID, d.ProviderID)
	} else {
		r.id = keepSame(&s.strs, old.id, d.ID)
		r.providerID = keepSame(&s.strs, old.providerID, d.ProviderID)
	}
	if old.contactID == d.ContactID {
		r.contactID = old.contactID
	}
	if old.address == d.Address {
		r.address = old.address
	}
	if old.text == d.Text {
		r.text = old.text
	}
	var more delMore
	if d.Identity == msg.identity {
		r.flags |= ownIdentity
	} else {
		more.identity = d.Identity
	}
	if d.Campaign == msgBroadcast(msg) {
		r.flags |= ownCampaign
	} else {
		more.campaign = d.Campaign
	}
	more.subject, more.html, more.reason = d.Subject, d.HTML, d.Reason
	more.anchor, more.anchorRule = d.Anchor, d.AnchorRule
	more.dueAt, more.claimedUntil, more.checkIn, more.checkOut = d.DueAt, d.ClaimedUntil, d.CheckIn, d.CheckOut
	var ok1, ok2 bool
	r.created, r.createdLoc, ok1 = s.locs.encode(d.CreatedAt)
	r.sending, r.sendingLoc, ok2 = s.locs.encode(d.Sending)
	if !ok1 || !ok2 {
		r.flags |= exactTimes
		r.created, r.createdLoc, r.sending, r.sendingLoc = 0, 0, 0, 0
		more.createdAt, more.sending = d.CreatedAt, d.Sending
	}
	enc, okE := s.sameName(old.encoding, d.SMS.Encoding)
	cur, okC := s.sameName(old.currency, d.Cost.Currency)
	if okE && okC && fits32(d.Attempts) && fits32(d.SMS.Segments) && fits32(d.SMS.Units) {
		r.attempts, r.segments, r.units = int32(d.Attempts), int32(d.SMS.Segments), int32(d.SMS.Units)
		r.encoding, r.currency = enc, cur
	} else {
		r.flags |= wide
		r.micros = 0
		more.attempts, more.sms, more.cost = d.Attempts, d.SMS, d.Cost
	}
	var spare []histChange
	if old.more != nil {
		spare = old.more.hist
	}
	if long, ok := s.packHistory(r, d.Status.History, spare); !ok {
		r.flags |= fullHistory
		more.history = cloneHistory(d.Status.History, 0)
	} else {
		more.hist = long
	}
	if r.flags&(exactTimes|fullHistory|longHistory|wide) != 0 || !more.isZero() {
		if old.more == nil {
			old.more = new(delMore)
		}
		*old.more = more
		r.more = old.more
	}
}

// keepSame returns have when it is want, else want kept in the arena.
func keepSame(a *strArena, have, want string) string {
	if have == want {
		return have
	}
	return a.keep(want)
}

func fits32(n int) bool { return n >= math.MinInt32 && n <= math.MaxInt32 }

func (m *delMore) isZero() bool {
	return m.identity == "" && m.campaign == "" && m.subject == "" && m.html == "" && m.reason == "" &&
		m.anchor == "" && m.anchorRule == "" && m.dueAt.IsZero() && m.claimedUntil.IsZero() &&
		m.checkIn.IsZero() && m.checkOut.IsZero() && m.createdAt.IsZero() && m.sending.IsZero() &&
		m.history == nil && m.hist == nil && m.attempts == 0 && m.sms == (store.SMSInfo{}) && m.cost == (channel.Cost{})
}

// msgBroadcast returns the broadcast name of message m.
func msgBroadcast(m *msgRec) string {
	if m.rare == nil {
		return ""
	}
	return m.rare.broadcast
}

// packHistory packs h into r: inline when it fits, else into long
// (its array reused when it has the room), which it returns with
// longHistory set; false when a time of h has no stamp (r then holds no
// history). It leaves the other flags as they are.
func (s *Store) packHistory(r *delRec, h []status.Change, long []histChange) ([]histChange, bool) {
	r.flags &^= longHistory
	r.hlen = 0
	if h == nil {
		return nil, true
	}
	out := r.hist[:0]
	if len(h) > inlineHistory {
		out = long[:0]
	}
	for i := range h {
		c := &h[i]
		at, loc, ok := s.locs.encode(c.At)
		if !ok {
			return nil, false
		}
		out = append(out, histChange{at: at, loc: loc, status: c.Status, arrived: c.Arrived, text: s.textNum(c)})
	}
	if len(h) <= inlineHistory {
		r.hlen = uint8(len(h) + 1)
		return nil, true
	}
	r.flags |= longHistory
	return out, true
}

// packed returns r's packed history; nil when it has none or it is kept
// unpacked (fullHistory).
func (r *delRec) packed() []histChange {
	switch {
	case r.flags&longHistory != 0:
		return r.more.hist
	case r.hlen == 0:
		return nil
	}
	return r.hist[:r.hlen-1]
}

// history returns r's history, unpacked, appended to dst[:0]: with
// extra room for more changes.
func (s *Store) history(r *delRec, dst []status.Change) []status.Change {
	if r.flags&fullHistory != 0 {
		return append(dst[:0], r.more.history...)
	}
	p := r.packed()
	if p == nil {
		return nil
	}
	dst = dst[:0]
	for _, c := range p {
		dst = append(dst, s.change(c))
	}
	return dst
}

// change unpacks c.
func (s *Store) change(c histChange) status.Change {
	out := status.Change{Status: c.status, At: s.locs.decode(c.at, c.loc), Arrived: c.arrived}
	if c.text != 0 {
		t := &s.delTabs.texts[c.text-1]
		out.Raw, out.ErrorCode, out.ErrorMessage = t.raw, t.code, t.message
	}
	return out
}

func cloneHistory(h []status.Change, room int) []status.Change {
	if h == nil {
		return nil
	}
	return append(make([]status.Change, 0, len(h)+room), h...)
}

// value returns the delivery r holds, sharing no memory with the store.
// Its history has room for one more change: a status merge on the copy
// adds it without copying the history again.
func (s *Store) deliveryValue(r *delRec) store.Delivery {
	m := r.msg
	d := store.Delivery{ID: r.id, MessageID: m.id, ThreadID: s.threadOf(m).t.ID, Kind: r.kind,
		ContactID: r.contactID, Address: r.address, Text: r.text, ProviderID: r.providerID,
		Status: status.Record{Current: r.current}, Version: r.version,
		Attempts: int(r.attempts), SMS: store.SMSInfo{Encoding: s.name(r.encoding), Segments: int(r.segments), Units: int(r.units)},
		Cost: channel.Cost{Micros: r.micros, Currency: s.name(r.currency)}}
	if r.flags&exactTimes == 0 {
		d.CreatedAt, d.Sending = s.locs.decode(r.created, r.createdLoc), s.locs.decode(r.sending, r.sendingLoc)
	}
	if r.flags&ownIdentity != 0 {
		d.Identity = m.identity
	}
	if r.flags&ownCampaign != 0 {
		d.Campaign = msgBroadcast(m)
	}
	if x := r.more; x != nil {
		if r.flags&ownIdentity == 0 {
			d.Identity = x.identity
		}
		if r.flags&ownCampaign == 0 {
			d.Campaign = x.campaign
		}
		d.Subject, d.HTML, d.Reason, d.Anchor, d.AnchorRule = x.subject, x.html, x.reason, x.anchor, x.anchorRule
		d.DueAt, d.ClaimedUntil, d.CheckIn, d.CheckOut = x.dueAt, x.claimedUntil, x.checkIn, x.checkOut
		if r.flags&exactTimes != 0 {
			d.CreatedAt, d.Sending = x.createdAt, x.sending
		}
		if r.flags&wide != 0 {
			d.Attempts, d.SMS, d.Cost = x.attempts, x.sms, x.cost
		}
	}
	if r.flags&fullHistory != 0 {
		d.Status.History = cloneHistory(r.more.history, 1)
	} else if p := r.packed(); p != nil {
		d.Status.History = s.history(r, make([]status.Change, 0, len(p)+1))
	}
	return d
}

// createdAt returns r's CreatedAt as an instant (its location is not
// kept: the indexes compare instants only).
func (r *delRec) createdAt() time.Time {
	if r.flags&exactTimes != 0 {
		return r.more.createdAt
	}
	return stampInstant(r.created)
}

// sendingAt returns r's Sending as an instant.
func (r *delRec) sendingAt() time.Time {
	if r.flags&exactTimes != 0 {
		return r.more.sending
	}
	return stampInstant(r.sending)
}

func stampInstant(ns int64) time.Time {
	if ns == zeroStamp {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// dueAt, anchor, checkIn and checkOut return r's fields of those names.
func (r *delRec) dueAt() time.Time {
	if r.more == nil {
		return time.Time{}
	}
	return r.more.dueAt
}

func (r *delRec) anchor() string {
	if r.more == nil {
		return ""
	}
	return r.more.anchor
}

func (r *delRec) checkIn() time.Time {
	if r.more == nil {
		return time.Time{}
	}
	return r.more.checkIn
}

func (r *delRec) checkOut() time.Time {
	if r.more == nil {
		return time.Time{}
	}
	return r.more.checkOut
}

// campaign returns r's Campaign.
func (r *delRec) campaign() string {
	if r.flags&ownCampaign != 0 {
		return msgBroadcast(r.msg)
	}
	if r.more == nil {
		return ""
	}
	return r.more.campaign
}
