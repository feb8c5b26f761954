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
	ends  []int32 // where each word of buf ends, while Split folds
}

// Split returns the distinct folded words of text in order of first
// appearance: the words of MessageWords(text), byte for byte. The slices
// are valid until the next call of Split and must not be changed.
//
// A text of ASCII and the runes of Latin-1 and Latin Extended-A is folded
// and split in one pass that keeps only the words' bytes: ASCII is tested
// inline, a Latin rune through its fold. Any other rune, or invalid UTF-8,
// folds the whole text as MessageWords does, then splits it.
func (s *Splitter) Split(text string) [][]byte {
	s.words = s.words[:0]
	buf, ends := s.buf[:0], s.ends[:0]
	in := false // the last byte kept ends a word still open
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			i++
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if 'a' <= c && c <= 'z' || '0' <= c && c <= '9' {
				buf = append(buf, c)
				in = true
			} else if in {
				ends = append(ends, int32(len(buf)))
				in = false
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		if r >= latinEnd || r == utf8.RuneError && size == 1 {
			s.buf, s.ends = buf, ends
			return s.splitFolded(text)
		}
		i += size
		f := latinFold[r-latinFirst]
		for j := 0; j < len(f); {
			fr, n := rune(f[j]), 1
			if fr >= utf8.RuneSelf {
				fr, n = utf8.DecodeRuneInString(f[j:])
			}
			if isWordRune(fr) {
				buf = append(buf, f[j:j+n]...)
				in = true
			} else if in {
				ends = append(ends, int32(len(buf)))
				in = false
			}
			j += n
		}
	}
	if in {
		ends = append(ends, int32(len(buf)))
	}
	start := int32(0)
	for _, end := range ends {
		s.addWord(buf[start:end:end])
		start = end
	}
	s.buf, s.ends = buf, ends
	return s.words
}

// splitFolded is Split of a text that is not only ASCII and Latin runes:
// the whole text is folded first (fold.String), then split.
func (s *Splitter) splitFolded(text string) [][]byte {
	s.words = s.words[:0]
	s.buf = append(s.buf[:0], fold.String(text)...)
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
