package fold

import "testing"

// T13, R5: Append folds as String does, after what dst holds, and with
// room in dst it does not allocate (the stop-keyword check of every
// inbound message folds its text this way).
func TestAppend(t *testing.T) {
	for _, in := range []string{"", "helene", "Hélène", "STOP", "ARRÊT", "Straße", "ﬁne", "꾲", "\xff", "Is there parking near the studio?"} {
		got := string(Append([]byte("x:"), in))
		if want := "x:" + String(in); got != want {
			t.Errorf("Append(%q, %q) = %q, want %q", "x:", in, got, want)
		}
	}
	var buf [64]byte
	for _, in := range []string{"Is there parking near the studio?", "Arrêt", "STOP"} {
		allocs := testing.AllocsPerRun(100, func() {
			if len(Append(buf[:0], in)) == 0 {
				t.Fatal("empty folding")
			}
		})
		if allocs != 0 {
			t.Errorf("Append(buf, %q) allocates %v times, want 0", in, allocs)
		}
	}
}
