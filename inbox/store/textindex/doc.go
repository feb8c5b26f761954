// Package textindex holds the search rules of the store contract (T13,
// T14): how a typed query becomes a store.Search, and which words and digit
// forms of a thread's snapshot, phone number and message texts a store
// matches it against. It is public, next to the contract in package store,
// so that a store written outside this module (a host's own database) can
// index and match exactly as inbox/memstore and inbox/pgstore do, and pass
// inbox/storetest: inbox/storetest's own tests run a store that scans with
// the Match functions and imports nothing else of Parley's internals.
//
// The rules, which the Match functions implement by brute force and indexed
// stores reproduce:
//   - ParseQuery turns what a user typed into a store.Search: folded terms,
//     or a phone query (digits).
//   - A term matches a subject when it is a prefix of one of SubjectWords
//     of its snapshot; a phone query when it is a prefix of one of
//     PhoneForms of its phone (MatchSubject).
//   - Terms match a message when every word of MessageTerms(terms) is one
//     of the message's MessageWords, whole (MatchMessage): the search inside
//     a thread (store.MessageQuery.Terms, T14).
//   - A thread matches a store.ThreadQuery's Search when its subject
//     matches, or, for terms, when one of its messages does (MatchThread).
//
// Everything is folded: case- and accent-insensitive ("helene" finds
// "Hélène"). Words, digit forms and query terms are cut to MaxWordBytes, so
// that what a store indexes stays small whatever the input (a
// 3,000-character address is still found by its first characters); an
// index keyed by whole words stores those of MessageWords, one keyed by
// prefixes stores the prefixes of SubjectWords and PhoneForms. Splitter
// splits message texts into the same words without allocating, for stores
// that index many messages.
//
// The behaviour contract, with the rule IDs cited here, is
// https://github.com/parleyhq/parley/blob/main/docs/spec.md.
//
// # Concurrency
//
// Every function is safe for concurrent use; the package holds no state
// (the phone metadata of github.com/nyaruka/phonenumbers is read-only). A
// Splitter is not: use one per goroutine.
//
// # Errors
//
// No function returns an error: text that cannot be tokenised gives no
// words, and a phone number that cannot be parsed gives only its digits.
package textindex
