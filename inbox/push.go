package inbox

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/recipient"
	"github.com/parleyhq/parley/status"
)

// Push deliveries.
//
// A push message has one delivery per contact, sent to one device: the
// contact's first push token that is not retired (recipient.Contact lists the
// most recent device first). The delivery's Address is that token, so its
// status says exactly what happened to that device. A provider that reports
// the token dead (channel.ErrAddressRetired, FCM UNREGISTERED) fails the
// delivery with the reason; the inbox records the token as retired in the
// store (the opt-out record of that token for channel.Push), publishes
// EventDeviceRetired so the host can remove it, skips it in every later
// send and preflight, and a contact left with retired tokens only is blocked
// with recipient.ErrNoValidDevice (R2).
//
// Push providers report no delivery: an accepted push is sent (S1) and stays
// so, unless the host's app reports that the notification was opened
// (MarkPushOpened), which makes it read.

// markRetired lists, on each contact, the push tokens recorded as retired,
// so that recipient rules skip them (R2). It changes no contact of cs: it
// returns a copy of cs with the tokens listed, or nil when none is to be.
func (in *Inbox) markRetired(ctx context.Context, cs []recipient.Contact) ([]recipient.Contact, error) {
	var tokens []string
	for _, c := range cs {
		for _, t := range c.PushTokens {
			if t = normalizeAddress(channel.Push, t); t != "" {
				tokens = append(tokens, t)
			}
		}
	}
	if len(tokens) == 0 {
		return nil, nil
	}
	gone, err := in.store.OptedOut(ctx, channel.Push, tokens)
	if err != nil {
		return nil, wrapStore("retired push tokens", err)
	}
	if len(gone) == 0 {
		return nil, nil
	}
	var out []recipient.Contact
	for i := range cs {
		var add []string
		for _, t := range cs[i].PushTokens {
			if gone[normalizeAddress(channel.Push, t)] && !slices.Contains(cs[i].RetiredPushTokens, t) {
				add = append(add, t)
			}
		}
		if add != nil {
			if out == nil {
				out = slices.Clone(cs)
			}
			out[i].RetiredPushTokens = append(slices.Clone(cs[i].RetiredPushTokens), add...)
		}
	}
	return out, nil
}

// retireDevice records a push token the provider reported dead and tells
// subscribers (EventDeviceRetired).
func (in *Inbox) retireDevice(ctx context.Context, d Delivery) {
	addr := normalizeAddress(channel.Push, d.Address)
	if d.Kind != channel.Push || addr == "" {
		return
	}
	err := in.store.SetOptOut(ctx, channel.Push, addr, true, in.feedEvents(Event{Type: EventDeviceRetired,
		ThreadID: d.ThreadID, MessageID: d.MessageID, DeliveryID: d.ID, Kind: channel.Push, Address: addr})...)
	if err != nil {
		in.log.WarnContext(ctx, "inbox: recording a retired push token failed", "delivery", d.ID, "err", err)
		return
	}
	in.delivered(ctx)
}

// pushMetadata is the metadata of a push delivery's channel message: the
// thread, message and contact, so the recipient's app can open the
// conversation.
func pushMetadata(m Message, contactID string) map[string]string {
	return map[string]string{channel.MetaThreadID: m.ThreadID, channel.MetaMessageID: m.ID, channel.MetaContactID: contactID}
}

// readdress moves a scheduled push delivery whose token was retired after
// it was addressed to the contact's current device (the first token that is
// not retired), so that it is never sent to a dead device. The caller has
// checked that the contact is still eligible, so it has such a token.
func (in *Inbox) readdress(ctx context.Context, d Delivery, c recipient.Contact) (Delivery, error) {
	if d.Kind != channel.Push || !slices.Contains(c.RetiredPushTokens, d.Address) {
		return d, nil
	}
	to := normalizeAddress(channel.Push, c.Address(channel.Push))
	if to == "" || to == d.Address {
		return d, nil
	}
	return in.updateDeliveryFrom(ctx, d, func(d *Delivery) bool {
		d.Address = to
		return true
	})
}

// MarkPushOpened records that the recipient opened a push notification, as the
// host's app reports it: the delivery becomes read (S1), merged like any
// status (S2) and kept in its history with the raw status "opened" at the
// time given (now when zero). The notification's data carries the delivery
// ID (channel.Message.Reference; "parley_delivery_id" with channel/fcm).
//
// It fails with ErrNotFound for an unknown delivery, and with
// ErrInvalidArgument for a delivery that is not a push or was never sent
// (scheduled or cancelled). Reporting the same opening twice changes
// nothing the second time.
func (in *Inbox) MarkPushOpened(ctx context.Context, deliveryID string, at time.Time) (got Delivery, err error) {
	ctx, span := in.obs.startStatus(ctx, channel.Push, "", status.Read, "opened")
	defer func() { in.obs.endStatus(span, &got, err) }()
	if strings.TrimSpace(deliveryID) == "" {
		return Delivery{}, fmt.Errorf("inbox: push opened: %w: empty delivery ID", ErrInvalidArgument)
	}
	if at.IsZero() {
		at = in.now()
	}
	at = at.Round(0).Truncate(time.Microsecond)
	var refused error
	changed := false
	d, err := in.updateDeliveryEv(ctx, Delivery{ID: deliveryID}, func(d *Delivery) bool {
		refused, changed = nil, false
		switch d.Status.Current {
		case status.Scheduled, status.Cancelled:
			refused = fmt.Errorf("inbox: push opened: %w: delivery %s is %s", ErrInvalidArgument, d.ID, d.Status.Current)
			return false
		}
		if d.Kind != channel.Push {
			refused = fmt.Errorf("inbox: push opened: %w: delivery %s is %s, not push", ErrInvalidArgument, d.ID, d.Kind)
			return false
		}
		// a notification is opened once: a repeated report (the app
		// retrying, or reporting again later) is the same event
		for _, c := range d.Status.History {
			if c.Raw == "opened" {
				return false
			}
		}
		changed, _ = d.Status.Apply(status.Change{Status: status.Read, At: at, Raw: "opened"})
		return changed
	}, writeEvents{status: true})
	if err != nil {
		return Delivery{}, err
	}
	if refused != nil {
		return Delivery{}, refused
	}
	return d, nil
}
