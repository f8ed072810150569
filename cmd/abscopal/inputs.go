package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/models"
)

// printInputs says, by feature, how many of the rows scored had a value
// imputed, a level the model never saw or a value outside its training
// range: a file coded otherwise than the training data ("Male" for "male")
// shows here, where its probabilities would not tell.
func printInputs(w io.Writer, reports []models.InputReport, rows int) {
	if len(reports) == 0 || rows == 0 {
		return
	}
	pct := func(n int) string {
		return fmt.Sprintf("%d %s (%.1f%%)", n, plural(n, "row", "rows"), 100*float64(n)/float64(rows))
	}
	fmt.Fprintf(w, "inputs of the %d %s scored that the model had to fill in or did not know:\n", rows, plural(rows, "row", "rows"))
	for _, r := range reports {
		if r.Unseen > 0 {
			fmt.Fprintf(w, "  %s: a level never seen in training in %s: %s\n", r.Feature, pct(r.Unseen), strings.Join(r.UnseenLevels, ", "))
		}
		if r.OutOfRange > 0 {
			fmt.Fprintf(w, "  %s: outside the training range in %s\n", r.Feature, pct(r.OutOfRange))
		}
		if r.Imputed > 0 {
			fmt.Fprintf(w, "  %s: missing, imputed, in %s\n", r.Feature, pct(r.Imputed))
		}
	}
}

// printCaseMix lists the features whose values on the file lie away from
// the training rows' (population stability index of 0.1 or more), or says
// that none do.
func printCaseMix(w io.Writer, shifts []features.Shift) {
	if len(shifts) == 0 {
		return // a bundle made before training profiles were kept
	}
	if shifts[0].PSI < features.ShiftModerate {
		fmt.Fprintf(w, "\nCase mix: no feature's values moved from the training rows' (population stability index under %.2f; largest %s, %.3f).\n",
			features.ShiftModerate, shifts[0].Feature, shifts[0].PSI)
		return
	}
	fmt.Fprintf(w, "\nCase mix against the training rows (population stability index; %.2f-%.2f a moderate shift, above a major one; Siddiqi 2006):\n\n",
		features.ShiftModerate, features.ShiftMajor)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FEATURE\tPSI\tSHIFT\tMISSING HERE\tMISSING IN TRAINING")
	for _, s := range shifts {
		if s.PSI < features.ShiftModerate {
			break
		}
		size := "moderate"
		if s.PSI >= features.ShiftMajor {
			size = "major"
		}
		fmt.Fprintf(tw, "%s\t%.3f\t%s\t%.1f%%\t%.1f%%\n", s.Feature, s.PSI, size, 100*s.Missing, 100*s.TrainingMissing)
	}
	tw.Flush()
}
