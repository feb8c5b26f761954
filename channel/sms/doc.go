// Package sms measures and splits SMS text the way the network carries it
// (SPEC rule C6), following 3GPP TS 23.038 and TS 23.040.
//
// The behaviour contract, whose rule IDs (T, M, C, R, S) the
// documentation and tests cite, is
// https://github.com/parleyhq/parley/blob/main/docs/spec.md.
//
// [Measure] tells a composer how a body will travel: its [Encoding] (GSM-7 when
// every character is in the GSM 7-bit default alphabet or its extension table,
// UCS-2 otherwise), how many units it costs, how many segments it needs and how
// many units are left in the last segment. [Split] returns the text of each
// segment. [Normalize] is the optional "smart encoding": it replaces look-alike
// characters (curly quotes, long dashes, ellipsis, special spaces, …) with
// GSM-7 ones and reports every replacement.
//
// # Alphabet
//
// GSM-7 is the default alphabet of TS 23.038 §6.2.1 (128 characters, among
// them @ £ $ ¥ è é ù ì ò Ç Ø ø Å å Δ _ Φ Γ Λ Ω Π Ψ Σ Θ Ξ Æ æ ß É ¤ ¡ Ä Ö Ñ Ü § ¿
// ä ö ñ ü à, LF and CR) plus the default extension table of §6.2.1.1: form feed
// (U+000C) ^ { } \ [ ~ ] | €. An extension character is sent as the escape
// septet 0x1B followed by its code, so it costs two septets. Only the exact
// characters of the tables count: lower-case ç, for instance, is not in GSM-7
// (only Ç is), nor are the backtick and the tab. The escape slot 0x1B itself is
// not a character: a body holding U+001B ESCAPE is not GSM-7 text and is
// measured as UCS-2. National language shift tables are not used, since
// support for them varies between networks and handsets.
//
// # Units and segments
//
// A GSM-7 body is counted in septets and a UCS-2 body in UTF-16 code units,
// so a character outside the Basic Multilingual Plane (most emoji) counts two.
// A body that fits one message gets 160 septets or 70 code units; a longer
// body is sent as a concatenated message whose segments carry a user data
// header and hold 153 septets or 67 code units each. A body of exactly 160
// septets is one segment, 161 septets is two. The empty body is zero
// segments.
//
// Segments are filled greedily, and a two-unit item never straddles two
// segments: when an escape sequence (extension character) or a UTF-16
// surrogate pair (a character above U+FFFF) no longer fits in the one unit
// left in a segment, it moves whole to the next segment and that unit stays
// empty (a segment then holds 152 septets or 66 code units). The standard
// forbids splitting only these code unit pairs, so segments may break inside
// a grapheme cluster: between a letter and a combining accent, or between the
// parts of a ZWJ emoji sequence. Handsets join the segments of a concatenated
// message before display, so the text still renders as one.
//
// [Measurement.Remaining] is the number of units that can still be added to
// the last segment: PerSegment×Segments − Units − the units left empty by
// moved pairs. It is what a "characters left" counter shows.
//
// # Invalid UTF-8
//
// Measure and Split accept any string. Each byte that is not part of a valid
// UTF-8 sequence counts as one U+FFFD REPLACEMENT CHARACTER, which is not in
// GSM-7, so such a body is always measured as UCS-2 with one code unit per
// invalid byte. Split keeps the original bytes, so its segments still join to
// exactly the input. Normalize leaves invalid bytes as they are.
//
// # Concurrency
//
// The package has no state: every function is safe for concurrent use and
// does not modify its input.
//
// # Errors
//
// No function of this package returns an error or panics: every string, valid
// UTF-8 or not, has a measurement and a split, as described above.
package sms
