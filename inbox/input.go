package inbox

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/status"
)

// Input policy. Whatever enters the inbox — a provider's webhook, the
// host's directory, a composer's draft — is made storable here, once, the
// same way for every store, so that memstore and pgstore keep the same
// values and a provider's message is never refused forever:
//
//   - text is valid UTF-8 without NUL: invalid bytes become U+FFFD (each
//     byte one), NUL bytes are dropped;
//   - identifiers that stores index as keys (provider IDs, the address of
//     an unknown sender's subject, opted-out addresses) longer than
//     maxKeyBytes become their first keyPrefixBytes and a hash of the
//     whole: still unique, still found by their first characters, and well
//     under any index's entry size;
//   - a provider's time outside years 1 to 9999 is replaced by the time it
//     arrived;
//   - words are indexed to textindex.MaxWordBytes (inbox/store/textindex).
//
// A write a store still refuses (store.ErrInvalid) is reported as
// ErrUnstorable, which also matches channel.ErrInvalidMessage on the
// Receiver methods: a retry cannot help, and webhook handlers acknowledge it.

// maxKeyBytes is the longest identifier kept as it is.
const maxKeyBytes = 512

// keyPrefixBytes is how much of a longer identifier its key keeps before
// its hash.
const keyPrefixBytes = 200

// ErrUnstorable reports input the store refused even after the inbox
// cleaned it (store.ErrInvalid): storing it again cannot succeed. On Receive,
// ReceiveMessage, ApplyStatus and ApplyStatusUpdate it also matches
// channel.ErrInvalidMessage, so that webhook handlers acknowledge it (and log
// it) rather than make the provider retry for hours.
var ErrUnstorable = errors.New("input cannot be stored")

// unstorable marks a store's refusal of a value as ErrUnstorable and
// channel.ErrInvalidMessage; other errors are returned as they are.
func unstorable(err error) error {
	if err == nil || !errors.Is(err, store.ErrInvalid) || errors.Is(err, ErrUnstorable) {
		return err
	}
	return fmt.Errorf("inbox: %w (%w): %w", ErrUnstorable, channel.ErrInvalidMessage, err)
}

// cleanText returns s as valid UTF-8 without NUL: each invalid byte
// becomes U+FFFD and NUL bytes are dropped. Clean text is returned as is.
func cleanText(s string) string {
	if plainASCII(s) || utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == 0:
			i++
		case c < utf8.RuneSelf:
			b.WriteByte(c)
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b.WriteRune(utf8.RuneError)
			} else {
				b.WriteString(s[i : i+size])
			}
			i += size
		}
	}
	return b.String()
}

// plainASCII reports whether s holds only ASCII and no NUL, eight bytes
// at a time: the text of most messages and every field a receive cleans
// but one are, and an empty field costs no call.
func plainASCII(s string) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		// a high bit set, or a zero byte (w-ones borrows into its high bit)
		if (w|(w-ones))&highs != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c == 0 || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// storableKey returns the form of an identifier a store keeps as a key:
// the clean text, or, when that is longer than maxKeyBytes, its first
// keyPrefixBytes (at a character boundary), "…" and 32 hex digits of its
// SHA-256. The same identifier always gives the same key, and a key gives
// itself.
func storableKey(s string) string {
	s = cleanText(s)
	if len(s) <= maxKeyBytes {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	cut := keyPrefixBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…" + hex.EncodeToString(sum[:16])
}

// storableKeys applies storableKey to every ID; it returns ids itself when
// none changes.
func storableKeys(ids []string) []string {
	var out []string
	for i, id := range ids {
		k := storableKey(id)
		if k != id && out == nil {
			out = slices.Clone(ids)
		}
		if out != nil {
			out[i] = k
		}
	}
	if out == nil {
		return ids
	}
	return out
}

// cleanTexts applies cleanText to every string; it returns ss itself when
// none changes.
func cleanTexts(ss []string) []string {
	var out []string
	for i, s := range ss {
		c := cleanText(s)
		if c != s && out == nil {
			out = slices.Clone(ss)
		}
		if out != nil {
			out[i] = c
		}
	}
	if out == nil {
		return ss
	}
	return out
}

// validTime reports whether t is zero or in years 1 to 9999, the times
// every store keeps (and JSON encodes).
func validTime(t time.Time) bool {
	if t.IsZero() {
		return true
	}
	y := t.UTC().Year()
	return y >= 1 && y <= 9999
}

// cleanAttachments returns the attachments with clean names, types and
// URLs; as itself when they are clean. Data is kept as it is.
func cleanAttachments(as []channel.Attachment) []channel.Attachment {
	var out []channel.Attachment
	for i, a := range as {
		c := a
		c.Name, c.ContentType, c.URL = cleanText(a.Name), cleanText(a.ContentType), cleanText(a.URL)
		if (c.Name != a.Name || c.ContentType != a.ContentType || c.URL != a.URL) && out == nil {
			out = slices.Clone(as)
		}
		if out != nil {
			out[i] = c
		}
	}
	if out == nil {
		return as
	}
	return out
}

// cleanInbound makes an inbound message what the inbox stores: clean
// text, storable provider IDs, a sane time. From is left to the address
// rules (see Inbox.address).
func cleanInbound(msg *channel.Inbound) {
	msg.Name, msg.To = cleanText(msg.Name), cleanText(msg.To)
	msg.Subject, msg.Text, msg.HTML = cleanText(msg.Subject), cleanText(msg.Text), cleanText(msg.HTML)
	msg.Attachments = cleanAttachments(msg.Attachments)
	msg.ProviderID = storableKey(msg.ProviderID)
	msg.InReplyTo = storableKeys(msg.InReplyTo)
	msg.ThreadToken = cleanText(msg.ThreadToken)
	if !validTime(msg.ReceivedAt) {
		msg.ReceivedAt = time.Time{}
	}
}

// cleanStatus returns a status update as the inbox merges it: the
// provider ID as stored, clean text, a sane time. Its recipient and
// reference, which only an update whose provider ID no delivery has yet
// reads, are cleaned there (cleanStatusRefs): each is one more read of
// memory at a random place for every report of a broadcast.
func cleanStatus(u channel.StatusUpdate) channel.StatusUpdate {
	u.ProviderID = storableKey(u.ProviderID)
	u.Raw = cleanText(u.Raw)
	u.ErrorCode, u.ErrorMessage = cleanText(u.ErrorCode), cleanText(u.ErrorMessage)
	if !validTime(u.At) {
		u.At = time.Time{}
	}
	return u
}

// cleanStatusRefs returns u with its recipient as clean text and its
// reference cleared when no delivery can have it.
func cleanStatusRefs(u channel.StatusUpdate) channel.StatusUpdate {
	u.Recipient = cleanText(u.Recipient)
	if len(u.Reference) > maxReferenceBytes || cleanText(u.Reference) != u.Reference {
		u.Reference = "" // no delivery has such an ID
	}
	return u
}

// maxReferenceBytes bounds the reference a status update may carry: the
// delivery IDs the inbox sends as references are far shorter.
const maxReferenceBytes = 512

// cleanMessage makes the texts and provider IDs of an outbound message
// storable, in place. Slices that change are copied first.
func cleanMessage(m *Message) {
	m.Subject, m.Text, m.HTML = cleanText(m.Subject), cleanText(m.Text), cleanText(m.HTML)
	m.Attachments = cleanAttachments(m.Attachments)
	m.Identity, m.Address = cleanText(m.Identity), cleanText(m.Address)
	m.Author.Agent, m.Author.Automation = cleanText(m.Author.Agent), cleanText(m.Author.Automation)
	m.Broadcast, m.Template, m.MirrorOf = cleanText(m.Broadcast), cleanText(m.Template), cleanText(m.MirrorOf)
	m.ProviderID = storableKey(m.ProviderID)
	m.InReplyTo = storableKeys(m.InReplyTo)
	m.Groups = cleanTexts(m.Groups)
	m.Cost.Currency, m.SMS.Encoding = cleanText(m.Cost.Currency), cleanText(m.SMS.Encoding)
}

// cleanDelivery makes the texts and provider ID of a delivery storable, in
// place. A status history that changes is copied first.
func cleanDelivery(d *Delivery) { cleanChanged(d, &deliveryTexts{}) }

// deliveryTexts are the texts of a delivery that cleanDelivery cleans, as
// a write read them.
type deliveryTexts struct {
	contactID, address, identity, providerID string
	reason, campaign, anchor, anchorRule     string
	history                                  []status.Change
}

func textsOf(d *Delivery) deliveryTexts {
	return deliveryTexts{contactID: d.ContactID, address: d.Address, identity: d.Identity, providerID: d.ProviderID,
		reason: d.Reason, campaign: d.Campaign, anchor: d.Anchor, anchorRule: d.AnchorRule, history: d.Status.History}
}

// cleanChanged is cleanDelivery for a delivery whose texts were was, as a
// store keeps them (clean), before a change: it cleans only the texts that
// changed, without reading the others (a broadcast's contact IDs and
// addresses, each at its own place in memory).
func cleanChanged(d *Delivery, was *deliveryTexts) {
	text := func(s *string, old string) {
		if *s != old {
			*s = cleanText(*s)
		}
	}
	text(&d.ContactID, was.contactID)
	text(&d.Address, was.address)
	text(&d.Identity, was.identity)
	if d.ProviderID != was.providerID {
		d.ProviderID = storableKey(d.ProviderID)
	}
	text(&d.Reason, was.reason)
	text(&d.Campaign, was.campaign)
	text(&d.Anchor, was.anchor)
	text(&d.AnchorRule, was.anchorRule)
	var h []status.Change
	for i, c := range d.Status.History {
		if i < len(was.history) && c == was.history[i] {
			continue // as it was read: clean
		}
		n := c
		n.Raw, n.ErrorCode, n.ErrorMessage = cleanText(c.Raw), cleanText(c.ErrorCode), cleanText(c.ErrorMessage)
		if n != c && h == nil {
			h = slices.Clone(d.Status.History)
		}
		if h != nil {
			h[i] = n
		}
	}
	if h != nil {
		d.Status.History = h
	}
}

// cleanSnapshot returns a snapshot of the host's records with clean text.
func cleanSnapshot(s Snapshot) Snapshot {
	s.FirstName, s.LastName, s.Name = cleanText(s.FirstName), cleanText(s.LastName), cleanText(s.Name)
	s.Email, s.Phone = cleanText(s.Email), cleanText(s.Phone)
	return s
}
