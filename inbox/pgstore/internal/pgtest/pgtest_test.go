package pgtest

import (
	"errors"
	"strings"
	"testing"
)

// Without a server, the line a test binary prints says why, how to start
// one or point the tests at one, and how to make it a failure.
func TestSkipNotice(t *testing.T) {
	s := &Server{err: errors.New("initdb not found")}
	line := s.SkipNotice("pgstore")
	for _, want := range []string{"pgstore:", "skipped", "initdb not found", "apt-get install -y postgresql", EnvDSN, EnvRequire + "=1"} {
		if !strings.Contains(line, want) {
			t.Errorf("notice %q lacks %q", line, want)
		}
	}
	if strings.Contains(line, "\n") {
		t.Errorf("notice %q is more than one line", line)
	}
}
