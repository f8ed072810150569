package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/data/synth"
)

// TestPredictShards: a Parquet file of 7 row groups scored in 3 parts, by
// predict --shard i/3, gives outputs that, concatenated in order, are the
// single run's, line for line (probabilities to the last digit); a CSV
// file, and a part outside 1..n, are refused.
func TestPredictShards(t *testing.T) {
	dir := t.TempDir()
	cohort := filepath.Join(dir, "cohort.parquet")
	// 7 row groups of 100 patients.
	if err := synth.WriteFile(context.Background(), cohort, 700, 5, data.WriteOptions{RowGroupSize: 100}); err != nil {
		t.Fatal(err)
	}
	reg := filepath.Join(dir, "registry")
	mustCLI(t, "train", "--data", cohort, "--target", "objective_response", "--algo", "logistic", "--registry", reg, "--name", "orr", "--bootstrap", "10", "--folds", "3")
	whole := filepath.Join(dir, "whole.csv")
	mustCLI(t, "predict", "--registry", reg, "--model", "orr", "--data", cohort, "--out", whole, "--contributions")
	want := strings.SplitAfter(mustRead(t, whole), "\n")
	var got []string
	for i, part := range []string{"1/3", "2/3", "3/3"} {
		out := filepath.Join(dir, "part"+part[:1]+".csv")
		mustCLI(t, "predict", "--registry", reg, "--model", "orr", "--data", cohort, "--out", out, "--contributions", "--shard", part)
		lines := strings.SplitAfter(mustRead(t, out), "\n")
		if lines[0] != want[0] {
			t.Fatalf("part %s's header %q, the whole's %q", part, lines[0], want[0])
		}
		if n := len(lines) - 2; n != []int{200, 200, 300}[i] { // row groups 0-1, 2-3, 4-6
			t.Errorf("part %s: %d rows", part, n)
		}
		got = append(got, lines[1:]...)
	}
	if strings.Join(got, "") != strings.Join(want[1:], "") {
		t.Error("the parts' rows, in order, are not the whole file's")
	}
	// Counted from 0, as a Kubernetes indexed Job's JOB_COMPLETION_INDEX:
	// part 1/3 is the second part.
	zero := filepath.Join(dir, "zero.csv")
	mustCLI(t, "predict", "--registry", reg, "--model", "orr", "--data", cohort, "--out", zero, "--contributions", "--shard", "1/3", "--shard-base", "0")
	if mustRead(t, zero) != mustRead(t, filepath.Join(dir, "part2.csv")) {
		t.Error("--shard 1/3 --shard-base 0 is not the second part")
	}
	csvCohort := filepath.Join(dir, "cohort.csv")
	mustCLI(t, "synth", "--n", "50", "--seed", "1", "--out", csvCohort)
	for _, tc := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"predict", "--registry", reg, "--model", "orr", "--data", csvCohort, "--out", filepath.Join(dir, "x.csv"), "--shard", "1/2"}, 1, "a CSV file has no row groups"},
		{[]string{"predict", "--registry", reg, "--model", "orr", "--data", cohort, "--out", filepath.Join(dir, "x.csv"), "--shard", "4/3"}, 2, `--shard "4/3": want i/n`},
		{[]string{"predict", "--registry", reg, "--model", "orr", "--data", cohort, "--out", filepath.Join(dir, "x.csv"), "--shard", "0/3"}, 2, "want i/n"},
		{[]string{"predict", "--registry", reg, "--model", "orr", "--data", cohort, "--out", filepath.Join(dir, "x.csv"), "--shard", "3/3", "--shard-base", "0"}, 2, "0 <= i <= n-1"},
	} {
		if code, _, stderr := runCLI(t, tc.args...); code != tc.code || !strings.Contains(stderr, tc.says) {
			t.Errorf("abscopal %s: exit %d, %s; want %d saying %q", strings.Join(tc.args, " "), code, stderr, tc.code, tc.says)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x.csv")); !os.IsNotExist(err) {
		t.Error("a refused shard left a file")
	}
}
