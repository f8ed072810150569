package train_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/data/synth"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/stats"
	"github.com/abscopal/abscopal/train"
	"github.com/abscopal/abscopal/workflow"
)

// TestRunSurvival: a model of objective response, whose patients the
// synthetic cohort gives longer progression-free survival (HR 0.27 for a
// response), splits them by PFS out of fold; the card shows the curves; a
// threshold no patient reaches leaves a note, not a failed training.
func TestRunSurvival(t *testing.T) {
	ps := synth.Generate(2000, 21)
	res, err := train.Run(context.Background(), features.BuiltinSpec("objective_response"), records(ps),
		train.Options{Algo: "logistic", Seed: 1, Bootstrap: 20, Threshold: 0.4, Survival: []string{"pfs", "os"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Survival) != 2 || len(res.SurvivalNotes) != 0 {
		t.Fatalf("survival %v, notes %v", res.Survival, res.SurvivalNotes)
	}
	pfs := res.Survival[0]
	high := 0
	for _, p := range res.OOF {
		if p >= 0.4 {
			high++
		}
	}
	if pfs.Endpoint != "pfs" || pfs.Patients != 2000 || pfs.High.N != high || pfs.High.N+pfs.Low.N != 2000 ||
		!(pfs.HazardRatio.HR < 0.8) || !(pfs.HazardRatio.High < 1) || !(pfs.LogRankP < 0.001) || !(pfs.CIndex > 0.55) {
		t.Errorf("PFS by prediction: %+v", pfs)
	}
	b, err := train.Bundle("orr", res, models.TrainingInfo{DataFile: "synthetic.parquet", Synthetic: true})
	if err != nil {
		t.Fatal(err)
	}
	files, err := workflow.Files(b, res)
	if err != nil {
		t.Fatal(err)
	}
	card := string(files["card.md"])
	for _, want := range []string{"## Survival by predicted response", "![PFS by predicted response](survival_pfs.svg)", "| p >= 0.40 | " + strconv.Itoa(high) + " | "} {
		if !strings.Contains(card, want) {
			t.Errorf("card lacks %q", want)
		}
	}
	if svg := string(files["survival_os.svg"]); !strings.HasPrefix(svg, "<?xml") || !strings.Contains(svg, "p &gt;= 0.40") {
		t.Errorf("survival_os.svg: %.200s", svg)
	}

	res, err = train.Run(context.Background(), features.BuiltinSpec("objective_response"), records(ps[:400]),
		train.Options{Algo: "logistic", Seed: 1, Bootstrap: 20, Threshold: 0.97, Survival: []string{"os"}, CrossValidateOnly: true})
	if err != nil || len(res.Survival) != 0 || len(res.SurvivalNotes) != 1 || !strings.Contains(res.SurvivalNotes[0], "with a probability at or above 0.97, fewer than 10") {
		t.Errorf("threshold out of reach: %v, %v, %v", err, res.Survival, res.SurvivalNotes)
	}

	// Bad values name their row and column, before any fold is fitted.
	bad := synth.Generate(30, 5)
	minus := -2.0
	bad[3].PFSMonths = &minus
	_, err = train.Run(context.Background(), features.BuiltinSpec("objective_response"), records(bad), train.Options{Algo: "logistic", Survival: []string{"pfs"}})
	if !errors.Is(err, stats.ErrSurvival) || !strings.Contains(err.Error(), "row 4, column pfs_months: -2 months (allowed: 0 or more)") {
		t.Errorf("negative follow-up: err = %v", err)
	}
	_, err = train.Run(context.Background(), features.BuiltinSpec("objective_response"), records(bad), train.Options{Algo: "logistic", Survival: []string{"dfs"}})
	if !errors.Is(err, stats.ErrSurvival) || !strings.Contains(err.Error(), `unknown endpoint "dfs"`) {
		t.Errorf("unknown endpoint: err = %v", err)
	}
}
