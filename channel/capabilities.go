package channel

import (
	"errors"
	"time"
)

// Capabilities describe what a channel kind can carry and the rules the
// inbox applies before sending on it.
type Capabilities struct {
	// SubjectRequired: a message needs a non-blank subject (email, push; C2).
	SubjectRequired bool
	// SubjectAllowed: the kind carries a subject at all.
	SubjectAllowed bool
	// HTML: the kind carries an HTML body (email).
	HTML bool
	// FreeForm: staff may write free-form messages from the inbox. For email
	// this is the per-channel setting of C12; a host that allows only
	// templates sets it to false.
	FreeForm bool
	// ServiceWindow, when not zero, is how long after the contact's latest
	// inbound message free text is allowed; outside it only approved
	// templates may be sent (WhatsApp: 24 hours, C10).
	ServiceWindow time.Duration
	// AutomaticStart: only automatic or scheduled messages may start a
	// conversation, and free text is allowed once the contact has written
	// (Airbnb, C11).
	AutomaticStart bool
	// ReadReceipts: the provider reports when a message is read (S1).
	ReadReceipts bool
	// Segmented: the body is billed in SMS segments (C6, C13).
	Segmented bool
	// Attachments are the attachment limits (C7).
	Attachments AttachmentRules
}

// DefaultMMSMaxBytes is the default size limit of one MMS attachment:
// 410 KiB (C7).
const DefaultMMSMaxBytes = 410 * 1024

// DefaultWhatsAppMaxBytes is the default size limit of one WhatsApp media
// attachment: 16 MiB (C7).
const DefaultWhatsAppMaxBytes = 16 << 20

// DefaultCapabilities returns the capabilities of a kind as Parley assumes
// them when a host registers a channel without its own. An invalid kind gets
// the zero Capabilities.
func DefaultCapabilities(k Kind) Capabilities {
	switch k {
	case Email:
		return Capabilities{SubjectRequired: true, SubjectAllowed: true, HTML: true, FreeForm: true,
			Attachments: AttachmentRules{MaxCount: 10, MaxBytes: 20 << 20}}
	case SMS:
		return Capabilities{FreeForm: true, Segmented: true}
	case MMS:
		return Capabilities{FreeForm: true, Segmented: false,
			Attachments: AttachmentRules{MaxCount: 10, MaxBytes: DefaultMMSMaxBytes,
				Types: []string{"image/jpeg", "image/png", "image/gif"}}}
	case Push:
		return Capabilities{SubjectRequired: true, SubjectAllowed: true, FreeForm: true}
	case WhatsApp:
		return Capabilities{FreeForm: true, ServiceWindow: 24 * time.Hour, ReadReceipts: true,
			Attachments: AttachmentRules{MaxCount: 1, MaxBytes: DefaultWhatsAppMaxBytes,
				Types: []string{"image/jpeg", "image/png", "video/mp4", "audio/mpeg", "audio/ogg",
					"audio/aac", "audio/amr", "application/pdf"}}}
	case Airbnb:
		return Capabilities{FreeForm: true, AutomaticStart: true}
	}
	return Capabilities{}
}

func joinErrors(errs []error) error { return errors.Join(errs...) }
