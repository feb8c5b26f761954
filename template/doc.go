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
// Templates may come from any tenant of a multi-tenant host and run in the host's
// process. They cannot read the process environment, files or the network, call host
// code other than methods without arguments, change the host's data, crash the process
// or exhaust its memory:
//
//   - Allocation budget: all the function calls of one render share Options.MaxAlloc
//     (1 MiB by default). Each call is charged, before it runs, the most it can allocate,
//     computed from its arguments; a call that would exceed what is left fails with a
//     [*LimitError] naming the function, and nothing is allocated. What counts: printf's
//     format and, per verb, its width and precision and its operand printed at its
//     widest; the strings a function builds (repeat, indent, replace, wrap, join, cat,
//     quote, case mapping, encodings), with their builders' growth; a regular
//     expression's syntax tree, compiled program (estimated from the tree, before it is
//     compiled) and, for a replacement, its largest expansion; lists and dicts (a slot,
//     a box and the growth per item); JSON decoding (32 bytes per input byte); and every
//     value a function prints, joins or encodes, walked beforehand with everything it
//     holds, a value referenced twice counted twice. A result built by appending is
//     charged six times its size (its buffer is reallocated as it grows, then copied),
//     and every charge an eighth more (the allocator's rounding). Values printed by an
//     action are charged like print's when they are lists, maps or structs, and HTML
//     bodies are charged 13 bytes per printed byte for escaping. A test calls every
//     function on growing arguments and checks that none allocates more than it was
//     charged. Not counted: the rendered text
//     (bounded by Options.MaxOutput, 64 KiB per field), the executor's own bookkeeping (a
//     few bytes per loop iteration, bounded by Options.MaxIterations) and host code
//     (resolvers, methods). [Output] reports what a render used (Alloc, Iterations).
//   - Loops: all loops of a render together run at most Options.MaxIterations times
//     (10 000), counted before each loop starts, so `{{ range 1000000000 }}` fails at
//     once; until, untilStep, seq, split, splitList, regexFindAll and regexSplit build at
//     most Options.MaxList items (1 000). The context and the time budget
//     (Options.Timeout, 100 ms) are checked at every loop iteration and every 4 KiB of
//     output. A single call is not interrupted: calls whose work grows faster than their
//     input (a regular expression's program size times its input, trimAll with a
//     non-ASCII cutset) are refused beyond [MaxWork] steps.
//   - Data: no function changes its arguments (sortAlpha sorts a copy); a template
//     cannot assign to the host's maps, lists or fields. Printing or walking a value
//     that contains itself, or is nested deeper than [MaxDataDepth] levels, fails with
//     a [*LimitError] instead of overflowing the stack.
//   - Methods: a template reads the exported fields of the values a [Resolver] gives,
//     and calls their exported methods that take no arguments and return a value (or a
//     value and an error); printing a value calls its String or Error method, as fmt
//     does. A method call with arguments (`{{ .Contact.Obj.Exec "x" }}`, in any form) is
//     refused by [Parse]; a method that takes arguments (variadic ones included) named
//     without any is refused at render. call is not available.
//
// What a host must still do: bound the time and memory of its own code — a [Resolver]
// runs before the render's time budget starts, and methods of the values it returns run
// on the render's goroutine without interruption — so give templates plain data (maps,
// structs of fields); give every render a context the host can cancel; size
// Options.MaxAlloc and Options.MaxOutput for the renders it runs at once (a render may
// use about MaxAlloc plus three times MaxOutput); and treat typed HTML values
// (html/template.HTML) in data as trusted markup, which HTML bodies print unescaped.
//
// # Functions
//
// Templates can call text/template's builtins except call: and, or, not, len, index,
// eq, ne, lt, le, gt, ge, print, printf, println, html, js, urlquery; and Sprig's
// functions:
//
//   - Strings: abbrev, abbrevboth, trunc, trim, trimAll, trimall, trimPrefix,
//     trimSuffix, upper, lower, title, untitle, swapcase, snakecase, camelcase,
//     kebabcase, substr, repeat, nospace, initials, wrap, wrapWith, contains, hasPrefix,
//     hasSuffix, quote, squote, cat, indent, nindent, replace, plural, toString,
//     toStrings, join, sortAlpha, split, splitList, splitn, sha1sum, sha256sum,
//     sha512sum, adler32sum, b64enc, b64dec, b32enc, b32dec, regexQuoteMeta.
//   - Regular expressions: regexMatch, mustRegexMatch, regexFind, mustRegexFind,
//     regexFindAll, mustRegexFindAll, regexReplaceAll, mustRegexReplaceAll,
//     regexReplaceAllLiteral, mustRegexReplaceAllLiteral, regexSplit, mustRegexSplit.
//   - Numbers: atoi, int, int64, float64, toDecimal, add, add1, sub, mul, div, mod,
//     addf, add1f, subf, mulf, divf, max, biggest, min, maxf, minf, ceil, floor, round,
//     until, untilStep, seq.
//   - Defaults and flow: default, empty, coalesce, all, any, ternary, fail.
//   - Lists: list, tuple, first, mustFirst, last, mustLast, rest, mustRest, initial,
//     mustInitial, append, mustAppend, push, mustPush, prepend, mustPrepend, reverse,
//     mustReverse, compact, mustCompact, has, mustHas, slice, mustSlice, concat, chunk,
//     mustChunk.
//   - Dicts: dict, get, hasKey, pluck, keys, values, pick, omit, dig.
//   - Encoding and types: toJson, mustToJson, toPrettyJson, mustToPrettyJson,
//     toRawJson, mustToRawJson, fromJson, mustFromJson, typeOf, typeIs, typeIsLike,
//     kindOf, kindIs, deepEqual.
//   - Dates: now, date, htmlDate, toDate, mustToDate, dateModify, date_modify,
//     mustDateModify, must_date_modify, duration, unixEpoch. now, and date and htmlDate
//     given no time, read Options.Now.
//   - Paths and URLs: base, dir, clean, ext, isAbs, osBase, osDir, osClean, osExt,
//     osIsAbs, urlParse, urlJoin; versions: semver, semverCompare.
//
// Not available: env, expandenv, getHostByName (environment and network); ago and
// durationRound (the wall clock); dateInZone, date_in_zone, htmlDateInZone (time zones
// from the file system); randAlphaNum, randAlpha, randAscii, randNumeric, randBytes,
// randInt, uuidv4, shuffle (randomness); bcrypt, htpasswd, genPrivateKey,
// derivePassword, buildCustomCert, genCA, genCAWithKey, genSelfSignedCert,
// genSelfSignedCertWithKey, genSignedCert, genSignedCertWithKey, encryptAES, decryptAES
// (cryptography); set, unset, merge, mergeOverwrite, mustMerge, mustMergeOverwrite,
// deepCopy, mustDeepCopy (they change or copy the host's data); uniq, mustUniq,
// without, mustWithout (quadratic); hello; and call. define, block and template are
// not available either: a message template is one text.
//
// Subjects and text bodies behave as text/template does, with two differences: a nil
// value printed is an error ([ErrMissingValue]) instead of "<no value>", and range over
// a channel or a function is refused. HTML bodies use html/template's escaping; in them,
// values other than strings, numbers and booleans are printed as text before they are
// escaped.
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
// [Parse] returns a [*CheckError] of [KindSyntax] problems when a field does not parse
// or uses what templates may not (template calls, method calls with arguments).
// [Template.Check] and [WhatsAppTemplate.Validate] return a [*CheckError] listing every
// [Problem] with its field, line, column, variable and kind; [errors.Is] matches
// [ErrSyntax], [ErrUnknownVariable], [ErrScopeUnavailable], [ErrInvalid] or
// [ErrDuplicate] against it. Render returns a [*RenderError] wrapping [ErrMissingValue],
// [ErrOutputTooLarge], [ErrLimit] (with a [*LimitError] naming the function and the
// limit, found with [errors.As]), [ErrTimeBudget] or [ErrRender], or the context's error
// unwrapped when ctx ends. Catalog registrations return errors wrapping [ErrInvalid],
// [ErrUnknownScope] or [ErrDuplicate]. Messages start with "template: ".
package template
