package pgstore

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/inbox/store/textindex"
)

// Search keys. A thread's search_keys column holds, for its tenant, every
// prefix of every subject word ("w" keys) and every prefix of every phone
// digit form ("p" keys), so that the T13 rule
// "a term is a prefix of a subject word, a phone query a prefix of a digit
// form" becomes array containment (@>) served by one GIN index. A message's
// search_words column holds its whole words ("m" keys), and a thread's
// message_words column those of all its messages. Every key starts
// with the tenant number, so that the index answers one tenant's search
// without visiting another tenant's rows.

// keyPrefix returns the tenant part of the keys of one kind ("w", "p", "m").
func keyPrefix(tenant int64, kind string) string {
	return strconv.FormatInt(tenant, 10) + ":" + kind + ":"
}

// threadKeys returns the search keys of a thread's snapshot.
func threadKeys(tenant int64, s store.Snapshot) []string {
	seen := make(map[string]struct{})
	keys := []string{}
	add := func(k string) {
		if _, ok := seen[k]; !ok {
			seen[k] = struct{}{}
			keys = append(keys, k)
		}
	}
	wp := keyPrefix(tenant, "w")
	for _, w := range textindex.SubjectWords(s) {
		for i := range w {
			if i > 0 {
				add(wp + w[:i])
			}
		}
		add(wp + w)
	}
	pp := keyPrefix(tenant, "p")
	for _, f := range textindex.PhoneForms(s.Phone) {
		for n := 1; n <= len(f); n++ {
			add(pp + f[:n])
		}
	}
	return keys
}

// searchKeys returns the keys a thread must hold to match q through its
// subject, and the message keys a message must hold to match q's terms. A
// phone search has no message keys; terms that need no message word (only
// punctuation) match no message, as in every Parley store.
func searchKeys(tenant int64, q store.Search) (subject, message []string) {
	if q.Phone != "" {
		return []string{keyPrefix(tenant, "p") + validUTF8(q.Phone)}, nil
	}
	wp := keyPrefix(tenant, "w")
	for _, t := range q.Terms {
		subject = append(subject, wp+validUTF8(t))
	}
	return subject, messageKeys(tenant, textindex.MessageTerms(q.Terms))
}

// messageKeys returns the keys of message words.
func messageKeys(tenant int64, words []string) []string {
	if len(words) == 0 {
		return nil
	}
	mp := keyPrefix(tenant, "m")
	keys := make([]string, len(words))
	for i, w := range words {
		keys[i] = mp + w
	}
	return keys
}

// validUTF8 returns s when it is valid UTF-8, else s with each invalid byte
// replaced by U+FFFD, as internal/fold does when it folds.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		b = utf8.AppendRune(b, r)
		i += size
	}
	return string(b)
}

// Keyset ranks. The thread list is ordered favourites first, then by sort
// time newest first, then by ID ascending (T3). Mixed directions do not fit
// one row comparison, so every thread stores list_pin (NOT favourite) and
// list_rank (minus its sort time in microseconds): the list order is then
// (list_pin, list_rank, id) ascending, which one B-tree index serves and one
// row comparison pages through.

// micros returns t in microseconds since the Unix epoch, rounded down, the
// precision PostgreSQL keeps.
func micros(t time.Time) int64 { return t.UnixMicro() }

// listRank returns the list_rank of a sort time.
func listRank(sortTime time.Time) int64 { return -micros(sortTime) }
