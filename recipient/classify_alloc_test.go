package recipient

import "testing"

// R5: classifying a text checks it against the keywords without
// allocating, whether or not it is one: every inbound SMS, MMS and WhatsApp
// message is classified.
func TestClassifyDoesNotAllocate_R5(t *testing.T) {
	c := defaultClassifier(t)
	for _, text := range []string{"Is there parking near the studio?", "STOP", "Arrêt", "see you at 6"} {
		want := c.Classify(text)
		allocs := testing.AllocsPerRun(100, func() {
			if c.Classify(text) != want {
				t.Fatal("classification changed")
			}
		})
		if allocs != 0 {
			t.Errorf("Classify(%q) allocates %v times, want 0", text, allocs)
		}
	}
}
