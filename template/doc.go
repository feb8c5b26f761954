// Package template provides Parley's variable-aware message templates: a catalog of
// variables grouped by scope, a static check that finds every variable a send context
// cannot provide before anything is sent, and safe rendering for every channel (SPEC C4,
// C5, C10, C11).
//
// The behaviour contract, whose rule IDs (T, M, C, R, S) the
// documentation and tests cite, is
// https://github.com/parleyhq/parley/blob/main/docs/spec.md.
//
// The package name collides with text/template in host code; import it as ptemplate:
//
//	import ptemplate "github.com/parleyhq/parley/template"
//
// # Flow
//
// A sending pipeline parses a template once with [Parse], checks it with
// [Template.Check] against the scopes the send context provides, shows the problems in a
// composer, then renders it per recipient with [Template.Render] in the [Format] of the
// channel: [FormatText] (SMS, MMS, WhatsApp free text, push), [FormatEmail] (subject,
// text and HTML) or [FormatAirbnb] (plain text derived from the HTML). [Template.Preview]
// renders with the catalog's example values; [Template.WithSubject] overrides the subject
// for one send without changing the template.
//
// # Syntax and scopes
//
// Templates use Go's text/template syntax with the Sprig function library. A variable is a
// dotted path whose first element is the root field of a [Scope]:
//
//	root          scope
//	.Contact      contact      the recipient
//	.Account      account      the business
//	.Booking      booking
//	.Event        event        a class or session
//	.Audience     audience     a saved segment
//	.GiftCard     giftcard
//	.Appointment  appointment
//	.Agent        agent        the staff member who sends
//
// so `{{ .GiftCard.Value }}` belongs to [ScopeGiftCard]. [NewCatalog] holds these scopes
// and their variables, each with a label, a description and an example value; hosts add
// their own with [Catalog.RegisterScope] and [Catalog.Register]. [Catalog.Variables]
// lists what a variable picker can offer in a context and [Catalog.Insert] inserts a
// variable's token at a cursor.
//
// A variable without a value at render time is an error naming it, unless the template
// gives a default: `{{ .Contact.FirstName | default "there" }}`. Values passed to
// default, coalesce, empty, and, or and not, and bare if/with conditions
// (`{{ with .GiftCard }}…{{ end }}`) may be missing. A value that is present but nil
// counts as missing in subjects and text bodies; HTML bodies render it empty.
//
// HTML bodies are rendered with html/template: every value is escaped for its context.
// Subjects and text bodies are not escaped. Values are data, never template code.
//
// # Safety
//
// Templates may come from any tenant of a multi-tenant host. They cannot read the process
// environment, files or the network, and they cannot exhaust the host:
//
//   - Functions: every Sprig function except env, expandenv, getHostByName (environment
//     and network); ago and durationRound (they read the wall clock; now is available
//     and reads Options.Now); dateInZone, date_in_zone, htmlDateInZone (they load time
//     zones from the file system); randAlphaNum, randAlpha,
//     randAscii, randNumeric, randBytes, randInt, uuidv4, shuffle (randomness); bcrypt,
//     htpasswd, genPrivateKey, derivePassword, buildCustomCert, genCA, genCAWithKey,
//     genSelfSignedCert, genSelfSignedCertWithKey, genSignedCert, genSignedCertWithKey,
//     encryptAES, decryptAES (cryptography); set, unset, merge, mergeOverwrite, mustMerge,
//     mustMergeOverwrite, deepCopy, mustDeepCopy (they mutate or copy the host's data);
//     uniq, mustUniq, without, mustWithout (quadratic); hello. The builtin call is
//     refused; define, block and template are not available.
//   - Size: each rendered field is bounded by Options.MaxOutput (64 KiB by default), and
//     so is every string or list a function builds and the arguments it takes; repeat,
//     indent, nindent, replace, wrap, wrapWith, join, regexReplaceAll, printf widths are
//     checked before they allocate.
//   - Work: until, untilStep and seq refuse more than Options.MaxList items (1 000), so
//     `{{ range until 1000000000 }}{{ end }}` fails at once with [ErrLimit]; all loops of
//     a render together run at most Options.MaxIterations times (10 000), counted before
//     each loop starts; the context and the time budget (Options.Timeout, 100 ms) are
//     checked at every loop iteration and every 4 KiB of output.
//
// Templates can read every exported field and call every exported niladic method of the
// values a [Resolver] gives them: give them plain data (maps, structs of fields).
//
// # WhatsApp
//
// [WhatsAppTemplate] models a WhatsApp template with positional parameters mapped from
// catalog variables; [WhatsAppTemplate.Validate] runs the local checks before submission
// and [WhatsAppTemplate.Render] yields the ordered parameter values (SPEC C10).
//
// # Concurrency
//
// A [Catalog] is safe for concurrent use, registrations included. A [Template] is
// immutable once parsed: Check, Render and Preview may be called from many goroutines.
// [WhatsAppTemplate] is a plain value; its methods do not modify it.
//
// # Errors
//
// [Parse] returns a [*CheckError] of [KindSyntax] problems when a field does not parse.
// [Template.Check] and [WhatsAppTemplate.Validate] return a [*CheckError] listing every
// [Problem] with its field, line, column, variable and kind; [errors.Is] matches
// [ErrSyntax], [ErrUnknownVariable], [ErrScopeUnavailable], [ErrInvalid] or
// [ErrDuplicate] against it. Render returns a [*RenderError] wrapping [ErrMissingValue],
// [ErrOutputTooLarge], [ErrLimit], [ErrTimeBudget] or [ErrRender], or the context's error
// unwrapped when ctx ends. Catalog registrations return errors wrapping [ErrInvalid],
// [ErrUnknownScope] or [ErrDuplicate]. Messages start with "template: ".
package template
