package archtest

import (
	"bytes"
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/abscopal/abscopal/"

// layer is each package's place, lowest first: a package imports only
// packages of lower layers (DESIGN.md: data <- features <- models <- train
// <- workflow; api beside workflow; cmd wires everything). Leaves of ours
// that import nothing of abscopal's are layer 0.
var layer = map[string]int{
	"radiobiology": 0, "stats": 0, "internal/parallel": 0, "internal/buildinfo": 0, "internal/cardhtml": 0, "cdshooks": 0,
	"data":       1,
	"data/synth": 2, "features": 2, "web": 2, "fhir": 2,
	"models":       3,
	"s3store":      4,
	"train":        4,
	"plots":        5,
	"card":         6,
	"workflow":     7,
	"api":          8,
	"cmd/abscopal": 9,
}

type pkg struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
}

// TestLayers: every import of abscopal's code points down the layers;
// nothing imports cmd or api; the test kits (internal/testkit) are
// imported by tests only; and a new package is given a layer here, so that
// it cannot join unchecked. The benchmarks and the interoperability tests,
// which sit on top, and the guides' tests (docs) are left out.
func TestLayers(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(p.ImportPath, module)
		if strings.HasPrefix(name, "bench") || name == "interop" || name == "docs" || name == "deploy" || strings.HasPrefix(name, "internal/testkit/") || name == "internal/archtest" {
			continue
		}
		l, ok := layer[name]
		if !ok {
			t.Errorf("package %s has no layer: give it one in layers_test.go", name)
			continue
		}
		for _, imp := range p.Imports {
			dep, ours := strings.CutPrefix(imp, module)
			if !ours {
				continue
			}
			if strings.HasPrefix(dep, "internal/testkit/") {
				t.Errorf("%s imports the test kit %s outside its tests", name, dep)
				continue
			}
			if dl, ok := layer[dep]; !ok || dl >= l {
				t.Errorf("%s (layer %d) imports %s (layer %d): the import climbs", name, l, dep, dl)
			}
		}
	}
}
