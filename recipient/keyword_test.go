package recipient

import (
	"errors"
	"strings"
	"testing"
)

func defaultClassifier(t testing.TB) *Classifier {
	t.Helper()
	c, err := NewClassifier(KeywordSet{})
	if err != nil {
		t.Fatalf("NewClassifier: %v", err)
	}
	return c
}

// R5: whole-message keywords, case- and accent-insensitive, default set.
func TestClassify_R5(t *testing.T) {
	c := defaultClassifier(t)
	tests := []struct {
		text string
		want Keyword
	}{
		{"STOP", Stop}, {"stop", Stop}, {"Stop", Stop}, {"  stop \n", Stop}, {"Stop!", Stop}, {"STOP.", Stop},
		{"STOPALL", Stop}, {"unsubscribe", Stop}, {"Cancel", Stop}, {"END", Stop}, {"quit", Stop},
		{"REVOKE", Stop}, {"optout", Stop}, {"ARRET", Stop}, {"arrêt", Stop}, {"Arrêt", Stop}, {"ARRÊT", Stop},
		{"START", Start}, {"unstop", Start}, {"Yes", Start},
		{"HELP", Help}, {"info", Help},
		{"", NoKeyword}, {"   ", NoKeyword}, {"!!!", NoKeyword},
		{"please stop", NoKeyword}, {"stop sending me texts", NoKeyword}, {"STOP STOP", NoKeyword},
		{"stopp", NoKeyword}, {"opt out", NoKeyword}, {"see you at 6", NoKeyword},
		{strings.Repeat("stop", 100), NoKeyword},
	}
	for _, tt := range tests {
		if got := c.Classify(tt.text); got != tt.want {
			t.Errorf("Classify(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
}

// R5: keywords are configurable per host; nil lists keep the defaults.
func TestClassifierCustom_R5(t *testing.T) {
	set := DefaultKeywords()
	set.Stop = append(set.Stop, "DÉSINSCRIRE")
	set.Help = []string{} // this host answers no help keyword
	c, err := NewClassifier(set)
	if err != nil {
		t.Fatalf("NewClassifier: %v", err)
	}
	if got := c.Classify("desinscrire"); got != Stop {
		t.Errorf("custom stop word: %v", got)
	}
	if got := c.Classify("HELP"); got != NoKeyword {
		t.Errorf("emptied help list still matches: %v", got)
	}
	if got := c.Classify("START"); got != Start {
		t.Errorf("default start list lost: %v", got)
	}

	only, err := NewClassifier(KeywordSet{Stop: []string{"STOPPEN"}})
	if err != nil {
		t.Fatalf("NewClassifier: %v", err)
	}
	if only.Classify("STOP") != NoKeyword || only.Classify("stoppen") != Stop || only.Classify("yes") != Start {
		t.Error("replacing the stop list should drop STOP and keep the default start list")
	}
}

func TestNewClassifierRejectsBadSets(t *testing.T) {
	for name, set := range map[string]KeywordSet{
		"blank word":          {Stop: []string{" "}},
		"two words":           {Stop: []string{"opt out"}},
		"in two classes":      {Stop: []string{"STOP"}, Start: []string{"stop"}},
		"accent-folded clash": {Stop: []string{"ARRET"}, Help: []string{"arrêt"}},
	} {
		if _, err := NewClassifier(set); !errors.Is(err, ErrInvalidKeywords) {
			t.Errorf("%s: error %v, want ErrInvalidKeywords", name, err)
		}
	}
}

func FuzzClassify(f *testing.F) {
	for _, s := range []string{"STOP", "arrêt", " Stop! ", "please stop", "", "ＳＴＯＰ", "s\u0301top", "\xff", "YES", "help?"} {
		f.Add(s)
	}
	c := defaultClassifier(f)
	f.Fuzz(func(t *testing.T, text string) {
		k := c.Classify(text)
		if k > Help {
			t.Fatalf("Classify(%q) = %v, not a keyword class", text, k)
		}
		// Case does not matter for ASCII text.
		if isASCIIText(text) {
			if up := c.Classify(strings.ToUpper(text)); up != k {
				t.Fatalf("Classify(%q) = %v but upper-case gives %v", text, k, up)
			}
		}
		// A keyword is the whole message: text around it cancels it.
		if k != NoKeyword {
			if got := c.Classify(text + " x"); got != NoKeyword {
				t.Fatalf("Classify(%q) = %v, want none for a longer text", text+" x", got)
			}
		}
	})
}

func isASCIIText(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
