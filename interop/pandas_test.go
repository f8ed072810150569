package interop

import (
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/data/synth"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/internal/testkit/datatest"
)

// pandas runs interop/pandas_roundtrip.py with Debian's python3 and pandas
// (apt-get install python3-pandas; .ci/run does), with the separator and
// decimal mark in args if any, and returns pandas' version.
func pandas(t *testing.T, in, out string, args ...string) string {
	t.Helper()
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import pandas").Run(); err != nil {
		if os.Getenv("ABSCOPAL_REQUIRE_INTEROP") == "1" {
			t.Fatalf("pandas is not installed (apt-get install python3-pandas): %v", err)
		}
		t.Skip("pandas not installed; run: apt-get install python3-pandas")
	}
	b, err := exec.Command(py, append([]string{"pandas_roundtrip.py", in, out}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("pandas: %v\n%s", err, b)
	}
	return strings.TrimSpace(string(b))
}

// TestAbscopalReadsPandasCSV: a cohort CSV that has been through pandas
// (read_csv, then to_csv, with their defaults, or separated by semicolons
// with decimal commas, for Excel where the decimal mark is a comma) reads
// as the same patients as the Parquet file it came from: pandas writes the
// integer columns that hold nulls as floats (3.0 fractions), booleans as
// True/False and nulls as empty fields, and drops the synthetic label's
// sidecar (the ground-truth columns still mark the file synthetic).
func TestAbscopalReadsPandasCSV(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	in := filepath.Join(dir, "cohort.parquet")
	if err := synth.WriteFile(ctx, in, 1500, 13, data.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	ours := datatest.Copy(t, in, filepath.Join(dir, "ours.csv"))
	want, err := data.ReadCohort(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, sep, decimal string
	}{
		{"defaults", ",", "."},
		{"semicolons and decimal commas", ";", ","},
	} {
		t.Run(tc.name, func(t *testing.T) {
			theirs := filepath.Join(t.TempDir(), "pandas.csv")
			var version string
			if tc.sep == "," {
				version = pandas(t, ours, theirs)
			} else {
				version = pandas(t, ours, theirs, tc.sep, tc.decimal)
			}
			text, err := os.ReadFile(theirs)
			if err != nil {
				t.Fatal(err)
			}
			header, first, _ := strings.Cut(string(text), "\n")
			col := func(name string) int {
				for i, h := range strings.Split(header, tc.sep) {
					if h == name {
						return i
					}
				}
				t.Fatalf("pandas wrote no column %s", name)
				return -1
			}
			fractions, hlaLOH, alc := col("rt_fractions"), col("hla_loh"), col("alc")
			var wholeAsFloat, capitalized, decimal bool
			for _, line := range strings.Split(first, "\n") {
				f := strings.Split(line, tc.sep)
				if len(f) <= max(fractions, hlaLOH, alc) {
					continue
				}
				wholeAsFloat = wholeAsFloat || strings.HasSuffix(f[fractions], tc.decimal+"0")
				capitalized = capitalized || f[hlaLOH] == "True" || f[hlaLOH] == "False"
				decimal = decimal || strings.Contains(f[alc], tc.decimal)
			}
			if !wholeAsFloat || !capitalized || !decimal {
				t.Fatalf("pandas %s wrote fractions as floats %v, booleans as True/False %v, %q as the decimal mark %v: this test's premise is gone",
					version, wholeAsFloat, capitalized, tc.decimal, decimal)
			}
			if _, err := os.Stat(theirs + ".meta.json"); err == nil {
				t.Fatal("pandas wrote a sidecar: this test's premise is gone")
			}

			got, err := data.ReadCohort(ctx, theirs)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("read %d patients from pandas' CSV, %d from the Parquet file", len(got), len(want))
			}
			// pandas' default parser (read_csv without float_precision="round_trip")
			// can round a double's 17th digit: numbers agree to 1e-15, the rest
			// exactly.
			for i := range want {
				for _, f := range data.CohortFields() {
					g, w := f.Get(&got[i]), f.Get(&want[i])
					same := g == w
					if f.Kind == data.KindFloat && g.Valid && w.Valid {
						same = math.Abs(g.Num-w.Num) <= 1e-15*math.Max(1, math.Abs(w.Num))
					}
					if !same {
						t.Fatalf("pandas %s: row %d, column %s: %s from its CSV, %s from the Parquet file", version, i+1, f.Name, g.Format(f.Kind), w.Format(f.Kind))
					}
				}
			}
			src, err := features.OpenSource(ctx, theirs, features.BuiltinSpec("objective_response"), features.SourceOptions{NeedTarget: true})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			if !src.Synthetic() {
				t.Error("pandas' CSV of a synthetic cohort is not taken as synthetic")
			}
		})
	}
}
