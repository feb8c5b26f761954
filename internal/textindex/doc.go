// Package textindex is the one tokeniser of inbox search (T13, T14): it
// turns a typed query into a store.Search, and a thread's snapshot, phone
// number or message text into the words and digit forms a store indexes, so
// that the inbox, inbox/memstore and inbox/pgstore match exactly the same
// way.
//
// Matching rules, which the Match functions implement by brute force and
// indexed stores reproduce:
//   - a term matches a subject when it is a prefix of one of SubjectWords;
//   - a phone query matches when it is a prefix of one of PhoneForms;
//   - terms match a message when every word of MessageTerms(terms) is one of
//     the message's MessageWords (whole words).
//
// Everything is folded with internal/fold: case- and accent-insensitive
// ("helene" finds "Hélène"). Words, digit forms and query terms are cut to
// MaxWordBytes, so that what a store indexes stays small whatever the input
// (a 3,000-character address is still found by its first characters).
//
// # Concurrency
//
// Every function is safe for concurrent use; the package holds no state
// (the phone metadata of github.com/nyaruka/phonenumbers is read-only).
//
// # Errors
//
// No function returns an error: text that cannot be tokenised gives no
// words, and a phone number that cannot be parsed gives only its digits.
package textindex
