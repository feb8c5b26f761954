// Package recipient decides who may receive what, on which channel, and why
// not: contacts (R1), address validation (R6), eligibility (R2, C10, C11,
// R7), audience and event selections (R3, R4), opt-out keywords (R5) and
// quiet hours (R8). It is pure rules: it stores nothing and sends nothing;
// the inbox and the sending pipeline call it.
//
// The behaviour contract, whose rule IDs (T, M, C, R, S) the
// documentation and tests cite, is
// https://github.com/parleyhq/parley/blob/main/docs/spec.md.
//
// A host builds one *Rules with NewRules and uses it everywhere:
//
//   - Rules.Normalize (or ParsePhone and ParseEmail) when a contact is
//     created or edited, so that phones are stored in E.164;
//   - Rules.Check for one contact, channel kind and purpose, giving a
//     Verdict: Eligible, Warning or Blocked, with reasons a UI can show;
//   - Rules.Audience and Rules.Event for the recipients a composer shows,
//     selects and deselects;
//   - Rules.SendTime to hold marketing during the recipient's night.
//
// A *Classifier (NewClassifier) classifies inbound SMS and WhatsApp texts as
// stop, start or help keywords.
//
// Check validates addresses by shape only (an E.164 number with a known
// country code, an address with a dotted domain): libphonenumber is too slow
// to run for every recipient of a campaign, and R1 says phones are stored
// normalised. Normalize once, check often.
//
// # Concurrency
//
// Rules and Classifier are immutable after construction (Rules caches time
// zones under a lock) and safe for concurrent use; so are the package-level
// functions. A Selection is not safe for concurrent use: it is held by one
// composer while its user clicks. Contact, Verdict and the other types are
// plain values.
//
// # Errors
//
// Verdict reasons and selection errors match sentinels with errors.Is:
// ErrNoAddress, ErrInvalidAddress, ErrNoDevice (ErrNoValidDevice), ErrNoConsent,
// ErrGuestNotWritten, ErrRepliesImpossible (information only), and the
// SDK-wide channel.ErrOptedOut and channel.ErrWindowClosed; those about a
// channel are a *KindError (errors.As) whose text names the kind ("recipient:
// no sms address", "recipient: opted out of whatsapp"). Parsing errors
// match ErrInvalidPhone (as *PhoneError) or ErrInvalidEmail, and both match
// ErrInvalidAddress. Selections report ErrUnknownMember, ErrNotSelectable and
// ErrUnknownGroup; constructors report ErrInvalidOptions, ErrInvalidKeywords
// and ErrInvalidQuietHours. Every message starts with "recipient:".
package recipient
