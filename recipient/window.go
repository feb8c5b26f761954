package recipient

import "time"

// WhatsAppWindowOpen reports whether the WhatsApp customer service window
// (Options.WhatsAppWindow, 24 hours by default) that opened with a contact's
// inbound message at last is still open at now (C10, C13); a zero now means
// time.Now(). A zero last means the contact never wrote: closed. A last
// after now (clock skew between servers) counts as just now.
func (r *Rules) WhatsAppWindowOpen(last, now time.Time) bool {
	if last.IsZero() {
		return false
	}
	if now.IsZero() {
		now = time.Now()
	}
	window := r.window
	if window == 0 {
		window = 24 * time.Hour
	}
	return now.Sub(last) < window
}
