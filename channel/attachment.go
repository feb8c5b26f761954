package channel

import (
	"fmt"
	"mime"
	"net/http"
	"slices"
)

// Attachment is a file sent with a message (C7). Either Data holds the
// content, or URL points to where the provider fetches it (MMS media URLs);
// a host that gives only a URL should give ContentType and Size too.
type Attachment struct {
	// Name is the file name shown to the recipient. It is never used to
	// decide the type.
	Name string
	// ContentType is the MIME type. When Data is set, validation detects the
	// type from the content and this field is ignored.
	ContentType string
	// Data is the content, when the message carries it.
	Data []byte
	// URL is where the content can be fetched, when Data is empty.
	URL string
	// Size is the size in bytes when only URL is set; ignored when Data is
	// set.
	Size int64
}

// Clone returns a copy of a whose Data shares nothing with a.
func (a Attachment) Clone() Attachment {
	if a.Data != nil {
		a.Data = append([]byte(nil), a.Data...)
	}
	return a
}

// DetectedType returns the MIME type of the attachment without parameters:
// sniffed from Data when present (http.DetectContentType), else the declared
// ContentType, else "".
func (a Attachment) DetectedType() string {
	t := a.ContentType
	if len(a.Data) > 0 {
		t = http.DetectContentType(a.Data)
	}
	if t == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(t)
	if err != nil {
		return ""
	}
	return mt
}

// ByteSize returns len(Data) when Data is set, else Size.
func (a Attachment) ByteSize() int64 {
	if len(a.Data) > 0 {
		return int64(len(a.Data))
	}
	return a.Size
}

// AttachmentRules are the attachment limits of a channel (C7).
type AttachmentRules struct {
	// MaxCount is how many attachments a message may carry; 0 means none.
	MaxCount int
	// MaxBytes is the largest size of one attachment in bytes; 0 means no
	// limit.
	MaxBytes int64
	// Types lists the allowed MIME types; empty means any type.
	Types []string
}

// The ways an attachment can break the rules, reported in AttachmentError.Rule.
const (
	RuleCount   = "count"
	RuleSize    = "size"
	RuleType    = "type"
	RuleContent = "content"
)

// AttachmentError reports an attachment that breaks a channel's rules. It
// matches ErrAttachment with errors.Is.
type AttachmentError struct {
	// Index is the position of the attachment in the message, or -1 when the
	// rule concerns the whole list (too many attachments).
	Index int
	// Name is the attachment's name.
	Name string
	// Rule is the rule broken: RuleCount, RuleSize, RuleType or RuleContent.
	Rule string
	// Detail says what was found and what is allowed.
	Detail string
}

// Error describes the attachment and the rule it breaks.
func (e *AttachmentError) Error() string {
	if e.Index < 0 {
		return fmt.Sprintf("channel: attachments: %s: %s", e.Rule, e.Detail)
	}
	return fmt.Sprintf("channel: attachment %d (%q): %s: %s", e.Index, e.Name, e.Rule, e.Detail)
}

// Unwrap returns ErrAttachment.
func (e *AttachmentError) Unwrap() error { return ErrAttachment }

// Validate checks attachments against the rules and returns every problem
// joined (errors.Join), each an *AttachmentError; nil when all pass. Types are
// detected from the content, never from the file name.
func (r AttachmentRules) Validate(atts []Attachment) error {
	var errs []error
	if len(atts) > r.MaxCount {
		errs = append(errs, &AttachmentError{Index: -1, Rule: RuleCount,
			Detail: fmt.Sprintf("%d attachments, at most %d allowed", len(atts), r.MaxCount)})
	}
	for i, a := range atts {
		if len(a.Data) == 0 && a.URL == "" {
			errs = append(errs, &AttachmentError{Index: i, Name: a.Name, Rule: RuleContent, Detail: "no data and no URL"})
			continue
		}
		if r.MaxBytes > 0 && a.ByteSize() > r.MaxBytes {
			errs = append(errs, &AttachmentError{Index: i, Name: a.Name, Rule: RuleSize,
				Detail: fmt.Sprintf("%d bytes, at most %d allowed", a.ByteSize(), r.MaxBytes)})
		}
		if len(r.Types) > 0 {
			t := a.DetectedType()
			if !slices.Contains(r.Types, t) {
				if t == "" {
					t = "unknown type"
				}
				errs = append(errs, &AttachmentError{Index: i, Name: a.Name, Rule: RuleType,
					Detail: fmt.Sprintf("%s, allowed: %v", t, r.Types)})
			}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return joinErrors(errs)
}
