package status

import (
	"fmt"
	"strings"
)

// ParseTwilio maps a Twilio Messaging status value (the MessageStatus of a
// status callback, or the status field of a Message resource) to a Status
// (S4). The match ignores case and surrounding space.
//
//	accepted, queued, sending    -> Validated (accepted by the provider, not yet with the carrier)
//	scheduled                    -> Scheduled
//	sent                         -> Sent
//	partially_delivered          -> Sent (some segments confirmed; delivered or undelivered follows)
//	delivered                    -> Delivered
//	undelivered                  -> Undelivered
//	failed                       -> Failed
//	read                         -> Read
//	canceled, cancelled          -> Cancelled
//	receiving, received          -> error matching ErrInbound
//
// Anything else gives an error matching ErrUnknown.
func ParseTwilio(value string) (Status, error) {
	switch strings.ToLower(strings.TrimSpace(value)) {
	case "accepted", "queued", "sending":
		return Validated, nil
	case "scheduled":
		return Scheduled, nil
	case "sent", "partially_delivered":
		return Sent, nil
	case "delivered":
		return Delivered, nil
	case "undelivered":
		return Undelivered, nil
	case "failed":
		return Failed, nil
	case "read":
		return Read, nil
	case "canceled", "cancelled":
		return Cancelled, nil
	case "receiving", "received":
		return Unknown, fmt.Errorf("status: twilio %q: %w", value, ErrInbound)
	}
	return Unknown, fmt.Errorf("status: twilio %q: %w", value, ErrUnknown)
}

// ParseWhatsApp maps a WhatsApp Cloud API status value (statuses[].status of
// a webhook notification) to a Status (S4). The match ignores case and
// surrounding space.
//
//	sent       -> Sent
//	delivered  -> Delivered
//	read       -> Read
//	played     -> Read (a voice message was played)
//	failed     -> Failed
//	deleted    -> error matching ErrNotDeliveryStatus (the user deleted the message)
//	warning    -> error matching ErrNotDeliveryStatus (a catalog item warning)
//
// Anything else gives an error matching ErrUnknown.
func ParseWhatsApp(value string) (Status, error) {
	switch strings.ToLower(strings.TrimSpace(value)) {
	case "sent":
		return Sent, nil
	case "delivered":
		return Delivered, nil
	case "read", "played":
		return Read, nil
	case "failed":
		return Failed, nil
	case "deleted", "warning":
		return Unknown, fmt.Errorf("status: whatsapp %q: %w", value, ErrNotDeliveryStatus)
	}
	return Unknown, fmt.Errorf("status: whatsapp %q: %w", value, ErrUnknown)
}

// ParseEmailEvent maps the event names that email delivery services report
// in their webhooks to a Status (S4). The match ignores case, surrounding
// space, and '-' versus '_'.
//
//	processed, accepted, queued            -> Validated
//	sent, deferred, soft_bounce, delayed   -> Sent (handed on; a retry by the mail system may follow)
//	delivered, delivery                    -> Delivered
//	bounce, bounced, hard_bounce, blocked  -> Undelivered
//	dropped, rejected, failed, failure     -> Failed
//	open, opened, read                     -> Read
//
// Engagement and complaint events (click, spamreport, complaint,
// unsubscribe) are not delivery statuses and give an error matching
// ErrNotDeliveryStatus; anything else gives an error matching ErrUnknown.
func ParseEmailEvent(value string) (Status, error) {
	v := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(value)), "-", "_")
	switch v {
	case "processed", "accepted", "queued":
		return Validated, nil
	case "sent", "deferred", "soft_bounce", "delayed":
		return Sent, nil
	case "delivered", "delivery":
		return Delivered, nil
	case "bounce", "bounced", "hard_bounce", "blocked":
		return Undelivered, nil
	case "dropped", "rejected", "failed", "failure":
		return Failed, nil
	case "open", "opened", "read":
		return Read, nil
	case "click", "clicked", "spamreport", "spam_report", "complaint", "unsubscribe", "unsubscribed":
		return Unknown, fmt.Errorf("status: email %q: %w", value, ErrNotDeliveryStatus)
	}
	return Unknown, fmt.Errorf("status: email %q: %w", value, ErrUnknown)
}
