package data

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCreateRows(t *testing.T) {
	dir := t.TempDir()
	cols := []ColumnSpec{{Name: "id", Kind: KindString}, {Name: "p", Kind: KindFloat, Optional: true}}
	for _, tt := range []struct {
		name string
		err  bool
	}{{"s.parquet", false}, {"s.CSV", false}, {"s.csv", false}, {"s.txt", true}, {"s", true}} {
		path := filepath.Join(dir, tt.name)
		w, err := CreateRows(path, cols, WriteOptions{})
		if tt.err {
			if !errors.Is(err, ErrExtension) || !strings.Contains(err.Error(), tt.name+": the extension must be .parquet or .csv") {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteRow([]Value{String("a"), Float(0.5)}); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(path)
		if isParquet := strings.HasSuffix(tt.name, ".parquet"); isParquet != bytes.HasPrefix(b, []byte("PAR1")) || !isParquet && string(b) != "id,p\na,0.5\n" {
			t.Errorf("%s: %q", tt.name, b)
		}
	}
}
