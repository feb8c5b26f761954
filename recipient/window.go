package recipient

import "time"

// WhatsAppWindowOpen reports whether the WhatsApp customer service window
// (Options.WhatsAppWindow, 24 hours by default) that opened with a contact's
// inbound message at last is still open now (C10, C13). A zero last means
// the contact never wrote: closed.
func (r *Rules) WhatsAppWindowOpen(last time.Time) bool { return r.windowOpen(last) }
