package train

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/data/synth"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/models"
)

// TestIntervalsKeepTheAnalysis: the bootstrap models kept for intervals,
// written to bootstrap.json and read back, give each training row the very
// range the stability analysis drew for it: the interval a patient gets at
// scoring is the analysis's.
func TestIntervalsKeepTheAnalysis(t *testing.T) {
	ps := synth.Generate(300, 17)
	recs := make([]features.Record, len(ps))
	for i := range ps {
		recs[i] = features.PatientRecord{P: &ps[i]}
	}
	for _, algo := range []string{"logistic", "gbm"} {
		res, err := Run(context.Background(), features.BuiltinSpec("objective_response"), recs,
			Options{Algo: algo, Folds: 3, Seed: 3, Bootstrap: 10, Instability: 12, Intervals: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Bootstrap) != 12 || !res.Instability.Kept {
			t.Fatalf("%s: %d bootstrap models kept (%v)", algo, len(res.Bootstrap), res.Instability.Kept)
		}
		b, err := models.EncodeBootstrap(res.Bootstrap)
		if err != nil {
			t.Fatal(err)
		}
		members, err := models.DecodeBootstrap(b, algo, false)
		if err != nil {
			t.Fatal(err)
		}
		m := &models.Model{Bootstrap: members}
		var s models.Scratch
		for i, r := range recs {
			lo, hi, ok := m.Interval(r, &s)
			if want := res.Instability.Rows[i]; !ok || lo != want.Lo || hi != want.Hi {
				t.Fatalf("%s: row %d: interval [%v, %v], the analysis's [%v, %v]", algo, i+1, lo, hi, want.Lo, want.Hi)
			}
		}
		if _, err := models.DecodeBootstrap(b, "forest", false); !errors.Is(err, models.ErrBundle) {
			t.Errorf("%s: read as a forest's: err = %v", algo, err)
		}
	}
	// Intervals need the analysis, and a model small enough to keep.
	for _, tt := range []struct {
		opts Options
		want string
	}{
		{Options{Algo: "logistic", Intervals: true}, "ask for some (--instability 200)"},
		{Options{Algo: "forest", Intervals: true, Instability: 5}, "too large to keep"},
	} {
		if _, err := Run(context.Background(), features.BuiltinSpec("objective_response"), recs, tt.opts); !errors.Is(err, ErrTrain) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: err = %v, want %q", tt.opts, err, tt.want)
		}
	}
}
