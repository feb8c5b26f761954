package readme_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every package of the module opens its documentation with what it is for
// and links the behaviour contract that its rule IDs cite (issue 14: "go doc
// of every package starts with what it is for and links the spec").
func TestEveryPackageDocLinksTheSpec(t *testing.T) {
	const spec = "https://github.com/parleyhq/parley/blob/main/docs/spec.md"
	if _, err := os.Stat("../../docs/spec.md"); err != nil {
		t.Fatalf("the spec the docs link is not in the repository: %v", err)
	}
	docs := map[string]string{}  // directory → package doc
	names := map[string]string{} // directory → package name
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != "../.." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			return err
		}
		dir := filepath.Dir(path)
		names[dir] = f.Name.Name
		if _, ok := docs[dir]; !ok {
			docs[dir] = ""
		}
		if f.Doc != nil {
			docs[dir] += f.Doc.Text()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) < 10 {
		t.Fatalf("found %d packages; the walk did not see the module", len(docs))
	}
	for dir, doc := range docs {
		switch {
		case doc == "":
			t.Errorf("%s: no package documentation", dir)
		case names[dir] == "main" && !strings.HasPrefix(doc, "Command "),
			names[dir] != "main" && !strings.HasPrefix(doc, "Package "+names[dir]+" "):
			t.Errorf("%s: the documentation does not open with what the package is for (\"Package %s …\" or \"Command …\"): %q", dir, names[dir], strings.SplitN(doc, "\n", 2)[0])
		case !strings.Contains(doc, spec):
			t.Errorf("%s: the package documentation does not link the spec (%s)", dir, spec)
		}
	}
}
