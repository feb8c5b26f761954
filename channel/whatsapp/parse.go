package whatsapp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/status"
)

// Notification is what one webhook POST reports, parsed by
// ParseNotification: the inbound messages and the delivery status updates
// of every entry and change, in the order of the body.
type Notification struct {
	// Inbound are the messages received from contacts.
	Inbound []channel.Inbound
	// Statuses are the delivery status updates of sent messages.
	Statuses []channel.StatusUpdate
	// Skipped describes each item left out because it is not a message or
	// a delivery status Parley records: a removed reaction, a "deleted" or
	// "warning" status, an unknown status value, a change of another field
	// (template status updates, account alerts), errors reported by Meta.
	Skipped []string
	// Malformed describes each item left out because it cannot be read: a
	// message without an id or a sender, a status without an id, an item
	// or a change value of the wrong shape, a bad timestamp. The other
	// items of the notification are read all the same.
	Malformed []string
}

// The notification payload of the WhatsApp Business Account webhook.
type wirePayload struct {
	Object string `json:"object"`
	Entry  []struct {
		ID      string `json:"id"`
		Changes []struct {
			Field string          `json:"field"`
			Value json.RawMessage `json:"value"`
		} `json:"changes"`
	} `json:"entry"`
}

// wireValue is the value of a "messages" change. Its items are kept raw
// and read one by one, so that one malformed item does not hide the others.
type wireValue struct {
	Metadata *struct {
		DisplayPhoneNumber string `json:"display_phone_number"`
		PhoneNumberID      string `json:"phone_number_id"`
	} `json:"metadata"`
	Contacts []json.RawMessage `json:"contacts"`
	Messages []json.RawMessage `json:"messages"`
	Statuses []json.RawMessage `json:"statuses"`
	Errors   []json.RawMessage `json:"errors"`
}

type wireContact struct {
	Profile struct {
		Name string `json:"name"`
	} `json:"profile"`
	WaID string `json:"wa_id"`
}

type wireMessage struct {
	From      string   `json:"from"`
	ID        string   `json:"id"`
	Timestamp unixTime `json:"timestamp"`
	Type      string   `json:"type"`
	Context   *struct {
		From string `json:"from"`
		ID   string `json:"id"`
	} `json:"context"`
	Text *struct {
		Body string `json:"body"`
	} `json:"text"`
	Image    *wireMedia `json:"image"`
	Video    *wireMedia `json:"video"`
	Audio    *wireMedia `json:"audio"`
	Document *wireMedia `json:"document"`
	Sticker  *wireMedia `json:"sticker"`
	Button   *struct {
		Text    string `json:"text"`
		Payload string `json:"payload"`
	} `json:"button"`
	Interactive *struct {
		Type        string `json:"type"`
		ButtonReply *struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		} `json:"button_reply"`
		ListReply *struct {
			ID          string `json:"id"`
			Title       string `json:"title"`
			Description string `json:"description"`
		} `json:"list_reply"`
		NfmReply *struct {
			Name         string `json:"name"`
			Body         string `json:"body"`
			ResponseJSON string `json:"response_json"`
		} `json:"nfm_reply"`
	} `json:"interactive"`
	Location *struct {
		Latitude  float64 `json:"latitude"`
		Longitude float64 `json:"longitude"`
		Name      string  `json:"name"`
		Address   string  `json:"address"`
	} `json:"location"`
	Contacts []struct {
		Name struct {
			FormattedName string `json:"formatted_name"`
		} `json:"name"`
		Phones []struct {
			Phone string `json:"phone"`
		} `json:"phones"`
	} `json:"contacts"`
	Reaction *struct {
		MessageID string `json:"message_id"`
		Emoji     string `json:"emoji"`
	} `json:"reaction"`
	Order *struct {
		Text         string            `json:"text"`
		ProductItems []json.RawMessage `json:"product_items"`
	} `json:"order"`
	System *struct {
		Body string `json:"body"`
	} `json:"system"`
	Errors []wireError `json:"errors"`
}

type wireMedia struct {
	ID       string `json:"id"`
	MimeType string `json:"mime_type"`
	Caption  string `json:"caption"`
	Filename string `json:"filename"`
}

type wireStatus struct {
	ID          string      `json:"id"`
	Status      string      `json:"status"`
	Timestamp   unixTime    `json:"timestamp"`
	RecipientID string      `json:"recipient_id"`
	Errors      []wireError `json:"errors"`
	// CallbackData is the biz_opaque_callback_data the message was sent
	// with (channel.Message.Reference).
	CallbackData string `json:"biz_opaque_callback_data"`
}

type wireError struct {
	Code      int    `json:"code"`
	Title     string `json:"title"`
	Message   string `json:"message"`
	ErrorData struct {
		Details string `json:"details"`
	} `json:"error_data"`
}

// unixTime is a timestamp in Unix seconds, written as a JSON string (as Meta
// sends it) or number. The zero value means absent.
type unixTime struct{ t time.Time }

func (u *unixTime) UnmarshalJSON(b []byte) error {
	s := string(bytes.TrimSpace(b))
	if s == "null" {
		return nil
	}
	if uq, err := strconv.Unquote(s); err == nil {
		s = uq
	}
	if s == "" {
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > 1<<40 {
		return fmt.Errorf("timestamp %.40q is not Unix seconds", s)
	}
	u.t = time.Unix(n, 0).UTC()
	return nil
}

// ParseNotification parses the body of a webhook POST of the WhatsApp
// Business Account object into inbound messages and status updates. It does
// not verify the signature: call VerifySignature first, or use Handler,
// which does both.
//
// Message senders and status recipients (WhatsApp IDs, digits only) become
// E.164 numbers with a leading "+"; Inbound.To is the business phone number
// ID the message came to (the sender identity of this adapter). Text, media
// captions, button and interactive reply titles become Inbound.Text; media
// become attachments whose URL is MediaURL(media ID); the replied-to
// message ID (context.id, or a reaction's message_id) is InReplyTo. A
// status's biz_opaque_callback_data (the Reference the message was sent
// with) is its Reference. A body of another object than
// "whatsapp_business_account" gives an empty Notification. Timestamps
// absent from the body are left zero.
//
// A body that is not JSON of the documented shape (an object with an array
// of entries, each with an array of changes) gives an error matching
// ErrMalformed. Inside it each item is read on its own: a message without
// an id or a sender, a status without an id, an item or a change value of
// the wrong shape, a bad timestamp are listed in Malformed and left out,
// and the other items are read.
func ParseNotification(body []byte) (*Notification, error) {
	var p wirePayload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("whatsapp: %w: %v", ErrMalformed, err)
	}
	n := &Notification{}
	if p.Object != "whatsapp_business_account" {
		n.Skipped = append(n.Skipped, fmt.Sprintf("object %.40q", p.Object))
		return n, nil
	}
	for _, e := range p.Entry {
		for _, c := range e.Changes {
			if c.Field != "messages" {
				n.Skipped = append(n.Skipped, fmt.Sprintf("field %.60q", c.Field))
				continue
			}
			var v wireValue
			if err := json.Unmarshal(c.Value, &v); err != nil {
				n.Malformed = append(n.Malformed, fmt.Sprintf("change value of entry %.100s: %.200s", e.ID, err))
				continue
			}
			n.add(&v)
		}
	}
	return n, nil
}

// add appends the messages and statuses of one change value, and what it
// left out.
func (n *Notification) add(v *wireValue) {
	bad := func(what string, i int, err error) {
		n.Malformed = append(n.Malformed, fmt.Sprintf("%s %d: %.200s", what, i, err))
	}
	for i, raw := range v.Errors {
		var e wireError
		if err := json.Unmarshal(raw, &e); err != nil {
			bad("error", i, err)
			continue
		}
		n.Skipped = append(n.Skipped, "error "+errorText(e))
	}
	names := map[string]string{}
	for _, raw := range v.Contacts {
		var c wireContact
		if json.Unmarshal(raw, &c) == nil && c.WaID != "" {
			if _, ok := names[c.WaID]; !ok {
				names[c.WaID] = c.Profile.Name
			}
		}
	}
	to := ""
	if v.Metadata != nil {
		to = v.Metadata.PhoneNumberID
	}
	for i, raw := range v.Messages {
		var m wireMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			bad("message", i, err)
			continue
		}
		if m.ID == "" || m.From == "" {
			bad("message", i, fmt.Errorf("id %.100q or from %.40q missing", m.ID, m.From))
			continue
		}
		in, ok := inbound(&m)
		if !ok {
			n.Skipped = append(n.Skipped, fmt.Sprintf("message %.100s of type %.40q", m.ID, m.Type))
			continue
		}
		in.To, in.Name = to, names[m.From]
		n.Inbound = append(n.Inbound, in)
	}
	for i, raw := range v.Statuses {
		var s wireStatus
		if err := json.Unmarshal(raw, &s); err != nil {
			bad("status", i, err)
			continue
		}
		if s.ID == "" {
			bad("status", i, errors.New("id missing"))
			continue
		}
		st, err := status.ParseWhatsApp(s.Status)
		if err != nil {
			n.Skipped = append(n.Skipped, fmt.Sprintf("status %.40q of %.100s", s.Status, s.ID))
			continue
		}
		u := channel.StatusUpdate{
			Kind:       channel.WhatsApp,
			ProviderID: s.ID,
			Recipient:  e164(s.RecipientID),
			Reference:  s.CallbackData,
			Status:     st,
			Raw:        s.Status,
			At:         s.Timestamp.t,
		}
		if len(s.Errors) > 0 {
			u.ErrorCode = strconv.Itoa(s.Errors[0].Code)
			texts := make([]string, len(s.Errors))
			for i, e := range s.Errors {
				texts[i] = errorText(e)
			}
			u.ErrorMessage = strings.Join(texts, "; ")
		}
		n.Statuses = append(n.Statuses, u)
	}
}

// errorText is the readable text of a webhook error object.
func errorText(e wireError) string {
	t := e.Title
	if t == "" {
		t = e.Message
	}
	if d := e.ErrorData.Details; d != "" && d != t {
		if t == "" {
			return d
		}
		t += ": " + d
	}
	return t
}

// e164 turns a WhatsApp ID (country code and number, digits only) into an
// E.164 number; anything else is returned as is.
func e164(waID string) string {
	if waID != "" && validID(waID) {
		return "+" + waID
	}
	return waID
}

// inbound maps one message; false for messages that carry nothing to record
// (a removed reaction, a welcome request).
func inbound(m *wireMessage) (channel.Inbound, bool) {
	in := channel.Inbound{
		Kind:       channel.WhatsApp,
		From:       e164(m.From),
		ProviderID: m.ID,
		ReceivedAt: m.Timestamp.t,
	}
	if m.Context != nil && m.Context.ID != "" {
		in.InReplyTo = []string{m.Context.ID}
	}
	media := func(md *wireMedia) {
		if md == nil {
			return
		}
		in.Text = md.Caption
		if md.ID != "" {
			name := md.Filename
			if name == "" {
				name = md.ID
			}
			in.Attachments = []channel.Attachment{{Name: name, ContentType: md.MimeType, URL: MediaURL(md.ID)}}
		}
	}
	switch m.Type {
	case "text":
		if m.Text != nil {
			in.Text = m.Text.Body
		}
	case "image":
		media(m.Image)
	case "video":
		media(m.Video)
	case "audio":
		media(m.Audio)
	case "document":
		media(m.Document)
	case "sticker":
		media(m.Sticker)
	case "button":
		if m.Button != nil {
			in.Text = m.Button.Text
		}
	case "interactive":
		if it := m.Interactive; it != nil {
			switch {
			case it.ButtonReply != nil:
				in.Text = it.ButtonReply.Title
			case it.ListReply != nil:
				in.Text = it.ListReply.Title
			case it.NfmReply != nil:
				in.Text = it.NfmReply.Body
			}
		}
	case "reaction":
		if m.Reaction == nil || m.Reaction.Emoji == "" {
			return in, false
		}
		in.Text = m.Reaction.Emoji
		if m.Reaction.MessageID != "" {
			in.InReplyTo = []string{m.Reaction.MessageID}
		}
	case "location":
		if l := m.Location; l != nil {
			var parts []string
			for _, s := range []string{l.Name, l.Address} {
				if s != "" {
					parts = append(parts, s)
				}
			}
			parts = append(parts, strconv.FormatFloat(l.Latitude, 'f', -1, 64)+","+strconv.FormatFloat(l.Longitude, 'f', -1, 64))
			in.Text = strings.Join(parts, "\n")
		}
	case "contacts":
		var lines []string
		for _, c := range m.Contacts {
			line := c.Name.FormattedName
			for _, p := range c.Phones {
				line = strings.TrimSpace(line + " " + p.Phone)
			}
			if line != "" {
				lines = append(lines, line)
			}
		}
		in.Text = strings.Join(lines, "\n")
	case "order":
		if m.Order != nil {
			in.Text = m.Order.Text
			if in.Text == "" {
				in.Text = fmt.Sprintf("[order: %d items]", len(m.Order.ProductItems))
			}
		}
	case "system":
		if m.System != nil {
			in.Text = m.System.Body
		}
	case "request_welcome":
		return in, false
	default:
		// "unsupported" and types this adapter does not know: the contact
		// wrote, which opens the service window, so the message is kept with
		// a placeholder naming what arrived.
		what := m.Type
		if len(m.Errors) > 0 {
			what = errorText(m.Errors[0])
		}
		in.Text = fmt.Sprintf("[unsupported message: %.80s]", what)
	}
	return in, true
}
