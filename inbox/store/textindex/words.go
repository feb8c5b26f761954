package textindex

import (
	"bytes"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/fold"
)

// latinFirst and latinEnd bound the runes folded through a table: Latin-1
// Supplement and Latin Extended-A, which hold the accented letters of most
// European languages.
const (
	latinFirst = 0x80
	latinEnd   = 0x180
)

// latinFold holds fold.String(string(r)) for every rune r in [latinFirst,
// latinEnd). Folding works rune by rune, so a text folds to the
// concatenation of its runes' folds. It is built once and never changed.
var latinFold = func() (t [latinEnd - latinFirst]string) {
	for r := rune(latinFirst); r < latinEnd; r++ {
		t[r-latinFirst] = fold.String(string(r))
	}
	return t
}()

// Splitter splits message texts into the words MessageWords returns, as
// byte slices into memory it reuses: splitting a text that holds only ASCII
// and the letters of Latin-1 and Latin Extended-A allocates nothing once
// its buffers have grown. A Splitter is not safe for concurrent use; its
// zero value is ready to use.
type Splitter struct {
	buf   []byte
	words [][]byte
}

// Split returns the distinct folded words of text in order of first
// appearance: the words of MessageWords(text), byte for byte. The slices
// are valid until the next call of Split and must not be changed.
func (s *Splitter) Split(text string) [][]byte {
	s.buf = appendFolded(s.buf[:0], text)
	s.words = s.words[:0]
	f := s.buf
	start := -1
	for i := 0; i < len(f); {
		r, size := rune(f[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRune(f[i:])
		}
		if isWordRune(r) {
			if start < 0 {
				start = i
			}
		} else if start >= 0 {
			s.addWord(f[start:i:i])
			start = -1
		}
		i += size
	}
	if start >= 0 {
		s.addWord(f[start:len(f):len(f)])
	}
	return s.words
}

func (s *Splitter) addWord(w []byte) {
	w = w[:capLen(w)]
	for _, have := range s.words {
		if bytes.Equal(have, w) {
			return
		}
	}
	s.words = append(s.words, w)
}

// appendFolded appends fold.String(text) to dst: ASCII is lower-cased and
// Latin letters folded through latinFold, byte by byte and rune by rune;
// any other rune, or invalid UTF-8, folds the whole text with fold.String.
func appendFolded(dst []byte, text string) []byte {
	n := len(dst)
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		if r >= latinEnd || r == utf8.RuneError && size == 1 {
			return append(dst[:n], fold.String(text)...)
		}
		dst = append(dst, latinFold[r-latinFirst]...)
		i += size
	}
	return dst
}
