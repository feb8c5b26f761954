package status

import "errors"

var (
	// ErrUnknown reports a status name or provider value that maps to no
	// status.
	ErrUnknown = errors.New("unknown status")
	// ErrInbound reports a provider status that describes an inbound message
	// (Twilio's "receiving" and "received"): it is not a delivery status of an
	// outbound message and must not be applied to one.
	ErrInbound = errors.New("inbound message status")
	// ErrNotDeliveryStatus reports a provider value that is a real event but
	// not a delivery status (WhatsApp's "deleted" and "warning").
	ErrNotDeliveryStatus = errors.New("not a delivery status")
)
