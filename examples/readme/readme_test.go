package readme_test

import (
	"bytes"
	"os"
	"testing"
)

// The README shows the studio and hotel programs verbatim: each is the
// fenced Go block that follows a "<!-- examples/readme/FILE -->" marker.
func TestREADMEShowsTheseFiles(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"studio_test.go", "hotel_test.go"} {
		file, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		marker := []byte("<!-- examples/readme/" + name + " -->\n```go\n")
		i := bytes.Index(readme, marker)
		if i < 0 {
			t.Errorf("README.md has no block marked %q", marker)
			continue
		}
		block := readme[i+len(marker):]
		end := bytes.Index(block, []byte("\n```\n"))
		if end < 0 {
			t.Errorf("README.md: the block of %s is not closed", name)
			continue
		}
		if got := block[:end+1]; !bytes.Equal(got, file) {
			t.Errorf("README.md's block of %s differs from the file; copy the file into the README", name)
		}
	}
}
