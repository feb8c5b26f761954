package recipient

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/parleyhq/parley/internal/fold"
)

// Keyword is the class of an inbound text (R5).
type Keyword uint8

const (
	// NoKeyword: an ordinary message.
	NoKeyword Keyword = iota
	// Stop: the contact opts out of the channel.
	Stop
	// Start: the contact opts back in.
	Start
	// Help: the contact asks for help; hosts answer with their help text.
	Help
)

// String returns "none", "stop", "start", "help" or "keyword(N)".
func (k Keyword) String() string {
	switch k {
	case NoKeyword:
		return "none"
	case Stop:
		return "stop"
	case Start:
		return "start"
	case Help:
		return "help"
	}
	return fmt.Sprintf("keyword(%d)", uint8(k))
}

// KeywordSet lists the words of each class. A nil list means the default
// list of that class (DefaultKeywords); an empty non-nil list means none.
type KeywordSet struct {
	Stop  []string
	Start []string
	Help  []string
}

// DefaultKeywords returns the default keywords (R5): stop STOP, STOPALL,
// UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPTOUT, ARRET; start START,
// UNSTOP, YES; help HELP, INFO. Each call returns new slices, so a host may
// append its own words.
func DefaultKeywords() KeywordSet {
	return KeywordSet{
		Stop:  []string{"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "ARRET"},
		Start: []string{"START", "UNSTOP", "YES"},
		Help:  []string{"HELP", "INFO"},
	}
}

// Classifier classifies inbound texts as opt-out keywords (R5). Build one
// with NewClassifier; it is immutable and safe for concurrent use.
type Classifier struct {
	words  map[string]Keyword // folded word → class
	maxLen int                // longest folded word, in bytes
}

// NewClassifier returns a classifier for set. Words are matched folded
// (case- and accent-insensitive), so "ARRET" also matches "arrêt". A word
// that is blank, holds a space, or is in two classes gives an error matching
// ErrInvalidKeywords.
func NewClassifier(set KeywordSet) (*Classifier, error) {
	def := DefaultKeywords()
	lists := []struct {
		class Keyword
		words []string
		def   []string
	}{
		{Stop, set.Stop, def.Stop},
		{Start, set.Start, def.Start},
		{Help, set.Help, def.Help},
	}
	c := &Classifier{words: make(map[string]Keyword)}
	for _, l := range lists {
		words := l.words
		if words == nil {
			words = l.def
		}
		for _, w := range words {
			key := fold.String(strings.TrimSpace(w))
			if key == "" || strings.IndexFunc(key, unicode.IsSpace) >= 0 {
				return nil, fmt.Errorf("%w: %v word %q must be one non-blank word", ErrInvalidKeywords, l.class, w)
			}
			if prev, ok := c.words[key]; ok && prev != l.class {
				return nil, fmt.Errorf("%w: %q is both a %v and a %v word", ErrInvalidKeywords, w, prev, l.class)
			}
			c.words[key] = l.class
			c.maxLen = max(c.maxLen, len(key))
		}
	}
	return c, nil
}

// Classify returns the class of an inbound text: Stop, Start or Help when
// the whole text, trimmed of spaces and punctuation at both ends ("Stop!",
// " arrêt. "), is one of the words, case- and accent-insensitively; NoKeyword
// otherwise, including for a keyword inside a longer text ("please stop
// sending"). The caller opts the contact out of (Stop) or back into (Start)
// the channel the text came on.
func (c *Classifier) Classify(text string) Keyword {
	t := strings.TrimFunc(text, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsPunct(r)
	})
	// Folding never shrinks a word by more than the bytes of its marks; a
	// text far longer than every word is not one of them. Nor is a text
	// with a space inside: a word holds none (NewClassifier), and folding
	// keeps spaces; most messages are sentences, told apart here without
	// folding them.
	if t == "" || len(t) > 4*c.maxLen+8 || strings.IndexByte(t, ' ') >= 0 {
		return NoKeyword
	}
	// Folded into a buffer on the stack: this runs on every inbound
	// message, and looking the bytes up allocates nothing.
	var buf [128]byte
	return c.words[string(fold.Append(buf[:0], t))]
}
