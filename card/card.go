// Package card writes the Markdown of a model card from a training result
// and its bundle (intended use, data, performance with intervals,
// calibration, utility, stability, survival by prediction, importance,
// caveats and the TRIPOD+AI items covered), and the section that opens the
// card of a recalibrated version. The figures it refers to are the plots
// package's.
package card

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/plots"
	"github.com/abscopal/abscopal/stats"
	"github.com/abscopal/abscopal/train"
)

// Markdown renders the model card (Markdown): intended use, data, metrics with
// intervals, the calibration plot, caveats and the TRIPOD+AI items it covers.
func Markdown(b *models.Bundle, res *train.Result) string {
	var w strings.Builder
	m, t := res.Metrics, b.Training
	fmt.Fprintf(&w, "# Model card: %s\n\n", b.Name)
	if t.Synthetic {
		w.WriteString("> **Trained on SYNTHETIC data: not for clinical use.** The data came from `abscopal synth`, a generative\n")
		w.WriteString("> model tuned to published rates. This model is a demonstration of the software, not clinical evidence.\n\n")
	}
	what := fmt.Sprintf("**%s** (positive: %v)", b.Target, res.Pipeline.Spec.Target.Positive)
	if res.Pipeline.Spec.Target.AtLeast != nil {
		what = fmt.Sprintf("**%s**", res.Pipeline.Spec.Target)
	}
	fmt.Fprintf(&w, "Predicts the probability of %s for one patient, calibrated (%s), with per-feature\n", what, b.Calibration.Method)
	fmt.Fprintf(&w, "contributions. Algorithm: `%s`. Built by abscopal %s (%s", b.Algo, t.AbscopalVersion, t.GoVersion)
	if t.Commit != "" {
		fmt.Fprintf(&w, ", commit %s", t.Commit)
	}
	w.WriteString(").\n\n")
	if t := res.TunedLambda(); t != "" {
		fmt.Fprintf(&w, "The L2 penalty, %s, was chosen among %s by the log loss of a %d-fold\n", t, train.LambdaRange(), train.InnerFolds)
		w.WriteString("cross-validation of the training rows; each outer fold tuned its own on its own training rows (nested\n")
		w.WriteString("cross-validation), so the metrics below judge the tuning too.\n\n")
	}
	w.WriteString("## Intended use\n\n")
	if b.Target == data.PneumonitisGrade {
		w.WriteString("- **For**: research on pneumonitis after immune checkpoint inhibitors with or without radiotherapy in patients\n")
		w.WriteString("  like those of the training data; weighing candidate regimens' risk for discussion, with their plans' mean\n")
		w.WriteString("  doses where known; as one input among many.\n")
	} else {
		w.WriteString("- **For**: research on response to immune checkpoint inhibitors with or without radiotherapy in patients like\n")
		w.WriteString("  those of the training data; ranking candidate regimens for discussion; as one input among many.\n")
	}
	w.WriteString("- **Not for**: treatment decisions without a clinician; patients unlike the training data (other cancers,\n")
	w.WriteString("  children, regimens or drugs it has not seen); any use before external validation in the target population.\n\n")

	w.WriteString("## Data\n\n")
	fmt.Fprintf(&w, "| | |\n|---|---|\n| file | `%s` |\n| SHA-256 | `%s` |\n", t.DataFile, t.DataSHA256)
	fmt.Fprintf(&w, "| rows used | %d (%d positive, %.1f%%) |\n", t.Rows, t.Positives, 100*float64(t.Positives)/float64(max(1, t.Rows)))
	fmt.Fprintf(&w, "| rows without a target (left out) | %d |\n| synthetic | %v |\n", t.DroppedRows, t.Synthetic)
	fmt.Fprintf(&w, "| inputs | %d features, %d model inputs after encoding |\n\n", len(res.Pipeline.Features), res.Pipeline.NumOutputs())
	w.WriteString("Missing inputs are imputed (median, or most frequent value) by a pipeline fitted on the training rows, with an\n")
	w.WriteString("indicator where training rows had gaps; the API reports every imputed input.\n\n")
	writeMissing(&w, res.Pipeline)
	writeCharacteristics(&w, res)
	if s := res.SampleSize; s != nil {
		w.WriteString("## Sample size\n\n")
		w.WriteString(SampleSize(*s, b.Algo))
		fmt.Fprintf(&w, "This model's measured counterpart is its uncalibrated out-of-fold calibration slope, %.3f, below (under 1:\n", res.Uncalibrated.CalSlope)
		w.WriteString("predictions too extreme, overfitted; over 1: too timid).\n\n")
	}

	if t.FoldsBy != "" {
		fmt.Fprintf(&w, "## Performance (cross-validation by %s: %d folds, each holding out one value of %s)\n\n", t.FoldsBy, t.Folds, t.FoldsBy)
		fmt.Fprintf(&w, "Out-of-fold predictions; each %s's rows were predicted by a pipeline and model fitted on the other values'\n", t.FoldsBy)
		w.WriteString("rows only (internal-external validation: how the model does on a group it has not seen). Calibrated\n")
	} else {
		fmt.Fprintf(&w, "## Performance (%d-fold stratified cross-validation, seed %d)\n\n", t.Folds, t.Seed)
		w.WriteString("Out-of-fold predictions; each fold's pipeline and model saw none of its held-out rows. Calibrated\n")
	}
	w.WriteString("probabilities use a calibrator fitted on the other folds' out-of-fold scores.\n\n")
	w.WriteString("| metric | calibrated | uncalibrated |\n|---|---|---|\n")
	fmt.Fprintf(&w, "| ROC AUC (95%% bootstrap CI) | %.3f (%.3f-%.3f) | %.3f |\n", m.AUC, m.AUCLow, m.AUCHigh, res.Uncalibrated.AUC)
	fmt.Fprintf(&w, "| Brier score | %.4f | %.4f |\n", m.Brier, res.Uncalibrated.Brier)
	fmt.Fprintf(&w, "| log loss | %.4f | %.4f |\n", m.LogLoss, res.Uncalibrated.LogLoss)
	fmt.Fprintf(&w, "| calibration intercept (ideal 0) | %.3f | %.3f |\n", m.CalIntercept, res.Uncalibrated.CalIntercept)
	fmt.Fprintf(&w, "| calibration slope (ideal 1) | %.3f | %.3f |\n", m.CalSlope, res.Uncalibrated.CalSlope)
	fmt.Fprintf(&w, "| ICI, mean distance from the smoothed calibration curve (ideal 0) | %.3f | %.3f |\n", m.ICI, res.Uncalibrated.ICI)
	fmt.Fprintf(&w, "| E90 / Emax, its 90th percentile / largest | %.3f / %.3f | %.3f / %.3f |\n", m.E90, m.EMax, res.Uncalibrated.E90, res.Uncalibrated.EMax)
	fmt.Fprintf(&w, "| sensitivity at p >= %.2f | %.3f | %.3f |\n", m.Threshold, m.Sensitivity, res.Uncalibrated.Sensitivity)
	fmt.Fprintf(&w, "| specificity at p >= %.2f | %.3f | %.3f |\n\n", m.Threshold, m.Specificity, res.Uncalibrated.Specificity)
	if len(res.FoldAUC) > 0 {
		w.WriteString("AUC per fold:")
		for _, a := range res.FoldAUC {
			fmt.Fprintf(&w, " %.3f", a)
		}
	} else {
		fmt.Fprintf(&w, "AUC per fold: by %s, below.", t.FoldsBy)
	}
	if len(res.Groups) > 0 {
		fmt.Fprintf(&w, "\n\n## Performance by %s\n\n", res.Options.By)
		if t.FoldsBy != "" {
			fmt.Fprintf(&w, "Each %s as a held-out fold: its rows' calibrated out-of-fold probabilities, from a model that never saw it.\n", t.FoldsBy)
			w.WriteString("Small groups have wide intervals. A group with one outcome only has no AUC.\n\n")
		} else {
			w.WriteString("The same calibrated out-of-fold probabilities, by subgroup. A model can rank well overall and badly, or\n")
			w.WriteString("miscalibrated, in one group; small groups have wide intervals. A group with one outcome only has no AUC.\n\n")
		}
		// Each row opens with its line break: the section ends as the
		// paragraph before it did, without one.
		fmt.Fprintf(&w, "| %s | n | positive | ROC AUC (95%% CI) | Brier | calibration intercept / slope | ICI |\n|---|---|---|---|---|---|---|", res.Options.By)
		for _, g := range res.Groups {
			if g.Metrics == nil {
				fmt.Fprintf(&w, "\n| %s | %d | %d | - | - | - | - |", g.Value, g.N, g.Positives)
				continue
			}
			gm := g.Metrics
			fmt.Fprintf(&w, "\n| %s | %d | %d | %.3f (%.3f-%.3f) | %.4f | %.3f / %.3f | %.3f |", g.Value, g.N, g.Positives, gm.AUC, gm.AUCLow, gm.AUCHigh, gm.Brier, gm.CalIntercept, gm.CalSlope, gm.ICI)
		}
		if p := res.Pooled; p != nil {
			w.WriteString("\n\nPooled " + p.Describe(res.Options.By))
		}
	}
	w.WriteString("\n\n## Calibration\n\n![calibration curve](calibration.svg)\n\n")
	fmt.Fprintf(&w, "The red line is the smoothed calibration curve through every row (lowess of the outcome on the\n"+
		"probability, as rms::val.prob draws it): the calibrated probabilities lie %.3f from it on average (ICI;\n"+
		"Austin and Steyerberg, Stat Med 2019), %.3f at the 90th percentile, %.3f at most.\n\n", m.ICI, m.E90, m.EMax)
	w.WriteString("| decile | n | mean predicted | observed (95% CI) |\n|---|---|---|---|\n")
	for i, c := range m.Curve {
		fmt.Fprintf(&w, "| %d | %d | %.3f | %.3f (%.3f-%.3f) |\n", i+1, c.N, c.Predicted, c.Observed, c.ObservedLow, c.ObservedHigh)
	}
	if len(m.DecisionCurve) > 0 {
		w.WriteString("\n## Clinical utility (decision curve)\n\n")
		w.WriteString("Net benefit per patient of acting on the calibrated out-of-fold probability (acting when p >= the\n")
		w.WriteString("threshold), against acting on every patient and on none (net benefit 0) (Vickers and Elkin, Med Decis\n")
		w.WriteString("Making 2006). The threshold is the risk at which one would act: it weighs a needless action against a\n")
		w.WriteString("missed response. The model is of use where it beats both defaults (last column above 0).\n\n")
		w.WriteString("![decision curve](decision_curve.svg)\n\n")
		w.WriteString("| threshold | model | act on all | act on none | model minus the better default |\n|---|---|---|---|---|\n")
		for _, nb := range m.DecisionCurve {
			fmt.Fprintf(&w, "| %.2f | %.4f | %.4f | 0 | %+.4f |\n", nb.Threshold, nb.Model, nb.TreatAll, nb.Model-max(nb.TreatAll, 0))
		}
	}
	if ins := res.Instability; ins != nil {
		writeInstability(&w, ins)
	}
	if len(res.Options.Survival) > 0 {
		writeSurvival(&w, res)
	}
	lead := train.Leading(res.Importance, 10)
	switch {
	case len(lead) > 0:
		w.WriteString("\n## Feature importance\n\n")
		fmt.Fprintf(&w, "Mean absolute contribution to the score (log-odds) on the training rows (%d evenly spaced ones beyond that many),\n", train.ImportanceRows)
		w.WriteString("by feature (levels and missing indicators summed first), largest first; the top 10. It says what the model leans\n")
		w.WriteString("on, not what causes a response.\n\n")
		w.WriteString("| feature | mean abs contribution (log-odds) |\n|---|---|\n")
		for _, im := range lead {
			fmt.Fprintf(&w, "| %s | %.3f |\n", im.Feature, im.MeanAbs)
		}
	case len(res.Importance) > 0:
		w.WriteString("\n## Feature importance\n\n")
		w.WriteString("**None: the model gives every patient the same score.** No feature contributes to it (for a GBM:\n")
		w.WriteString("no split met the minimum child weight; more rows or a smaller `--min-child-weight` change that).\n")
	}
	w.WriteString("\n## Caveats\n\n")
	w.WriteString("- Internal validation only: no external or temporal validation set was used. `abscopal evaluate` gives\n  the same metrics on patients the model has not seen.\n")
	w.WriteString("- Cross-validated metrics describe this population; expect lower performance elsewhere.\n")
	w.WriteString("- Contributions explain the model, not the biology: correlated inputs share credit arbitrarily.\n")
	if alg, err := models.LookupAlgorithm(b.Algo); err == nil {
		for _, n := range alg.Notes {
			w.WriteString("- " + n + "\n")
		}
	}
	w.WriteString("\n## TRIPOD+AI items covered\n\n| item | where |\n|---|---|\n")
	w.WriteString("| 5-6 data source, outcome | Data; target above |\n| 7 predictors | bundle.json `pipeline.spec` |\n")
	w.WriteString("| 8 sample size | Data; Sample size |\n| 9 missing data | Data (missing values by feature) |\n| 20 participants | Data (the training rows by feature) |\n| 12 model development, hyperparameters | bundle.json `training.hyperparameters` |\n")
	w.WriteString("| 12e calibration | Calibration |\n| 15 performance with uncertainty | Performance |\n| 24 intended use, limitations | Intended use; Caveats |\n")
	return w.String()
}

// writeInstability is the card's section on the stability analysis.
func writeInstability(w *strings.Builder, ins *stats.Instability) {
	w.WriteString("\n## Stability of the predictions\n\n")
	fmt.Fprintf(w, "The model's development repeated on %d bootstrap samples of the training rows (Riley and Collins, Biom J\n", ins.Bootstraps)
	w.WriteString("2023;65:2200302): each bootstrap model fitted as this one was and calibrated by the same method on the\n")
	w.WriteString("rows its sample left out, then asked for every training row's probability. How far those probabilities\n")
	w.WriteString("stray from this model's says how much a patient's probability owes to which patients happened to be\n")
	w.WriteString("in the training data: the cost of a small sample, which the AUC and the calibration do not show.\n\n")
	w.WriteString("![prediction instability](instability.svg)\n\n| measure | value |\n|---|---|\n")
	fmt.Fprintf(w, "| mean absolute prediction error (MAPE): a row's mean distance from the bootstrap models' probabilities, averaged over rows | %.4f |\n", ins.MAPE)
	fmt.Fprintf(w, "| MAPE of the 95th percentile row / the largest | %.4f / %.4f |\n", ins.MAPEP95, ins.MAPEMax)
	fmt.Fprintf(w, "| width of a row's central 95%% of bootstrap probabilities, mean | %.4f |\n", ins.Width95)
	fmt.Fprintf(w, "| classification instability at p >= %.2f: share of bootstrap models classing a row otherwise than this model, mean | %.4f |\n", ins.Threshold, ins.CII)
	fmt.Fprintf(w, "| rows classed otherwise by more than 1 bootstrap model in 5 | %.1f%% |\n\n", 100*ins.Unstable)
	if ins.Kept {
		w.WriteString("The bootstrap models are kept with this model (`bootstrap.json`): `abscopal predict --intervals` and the\n")
		w.WriteString("API (`?intervals=true`) give a new patient the central 95% of their probabilities beside this model's, as the\n")
		w.WriteString("plot does for the training rows. It is the spread of the model's development, not a confidence interval of the\n")
		w.WriteString("patient's outcome.\n\n")
	}
	w.WriteString("By tenth of the rows, ordered by this model's probability:\n\n")
	w.WriteString("| tenth | n | mean probability | MAPE | mean 95% width | classification instability |\n|---|---|---|---|---|---|\n")
	for i, b := range ins.ByDecile {
		fmt.Fprintf(w, "| %d | %d | %.3f | %.4f | %.4f | %.4f |\n", i+1, b.N, b.Predicted, b.MAPE, b.Width95, b.CII)
	}
}

// writeMissing tabulates, for the card, the training rows that lacked each
// feature and what stood in for the value (TRIPOD+AI: the amount of missing
// data by predictor, and how it was handled).
func writeMissing(w *strings.Builder, p *features.Pipeline) {
	var rows []string
	for i := range p.Features {
		f := &p.Features[i]
		if f.Missing == 0 {
			continue
		}
		var with string
		switch {
		case f.Kind == features.Categorical:
			with = "most frequent level, " + f.ImputeLevel
		case f.Kind == features.Boolean:
			with = fmt.Sprintf("most frequent value, %v", f.Impute == 1)
		case len(f.Transforms) == 0:
			with = fmt.Sprintf("median, %.4g", f.Impute)
		default:
			with = fmt.Sprintf("median, %.4g after %s", f.Impute, transformNames(f.Transforms))
		}
		rows = append(rows, fmt.Sprintf("| %s | %d (%.1f%%) | %s |\n", f.Name, f.Missing, 100*float64(f.Missing)/float64(max(1, p.TrainingRows)), with))
	}
	if len(rows) == 0 {
		fmt.Fprintf(w, "No training row lacked any of the %d features.\n\n", len(p.Features))
		return
	}
	fmt.Fprintf(w, "Training rows lacking each feature (%d of %d features have gaps; the others none):\n\n", len(rows), len(p.Features))
	w.WriteString("| feature | rows missing | imputed with |\n|---|---|---|\n")
	for _, r := range rows {
		w.WriteString(r)
	}
	w.WriteString("\n")
}

// writeCharacteristics describes, for the card, the training rows feature by
// feature, all of them and by outcome (TRIPOD+AI item 20, a paper's "table
// 1"): a numeric feature's median and interquartile range before
// transforms, a categorical feature's commonest levels, a boolean's share
// true, each of the rows with a value.
func writeCharacteristics(w *strings.Builder, res *train.Result) {
	c := res.Characteristics
	if c == nil || len(c.All) == 0 {
		return
	}
	t := res.Pipeline.Spec.Target
	positive, negative := t.Column, "not "+t.Column
	if t.AtLeast != nil {
		positive, negative = t.String(), fmt.Sprintf("%s < %s", t.Column, strconv.FormatFloat(*t.AtLeast, 'g', -1, 64))
	}
	fmt.Fprintf(w, "The training rows by feature, of those with a value, before transforms: a number's median (IQR), a yes/no\nfeature's share yes, a category's commonest levels.\n\n")
	fmt.Fprintf(w, "| feature | all (%d) | %s (%d) | %s (%d) |\n|---|---|---|---|\n",
		c.All[0].Rows, positive, rowsOf(c.Positive), negative, rowsOf(c.Negative))
	for i, s := range c.All {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", s.Feature, describe(s), describeAt(c.Positive, i), describeAt(c.Negative, i))
	}
	w.WriteString("\n")
}

func rowsOf(ss []features.Summary) int {
	if len(ss) == 0 {
		return 0
	}
	return ss[0].Rows
}

func describeAt(ss []features.Summary, i int) string {
	if i >= len(ss) {
		return "-"
	}
	return describe(ss[i])
}

// describe renders a Summary for a table cell: "65.4 (59.9-71.5)" for a
// median and its IQR; "high 59%, low 25%, loss 16%" for levels (at most
// four, then the others together); "34%" for a boolean's share true.
func describe(s features.Summary) string {
	present := s.Rows - s.Missing
	if present == 0 {
		return "-"
	}
	share := func(n int) string { return fmt.Sprintf("%.0f%%", 100*float64(n)/float64(present)) }
	switch s.Kind {
	case features.Numeric:
		q := s.Quartiles
		return fmt.Sprintf("%.4g (%.4g-%.4g)", q[1], q[0], q[2])
	case features.Boolean:
		for _, l := range s.Levels {
			if l.Level == "true" {
				return share(l.N)
			}
		}
		return "0%"
	}
	var parts []string
	rest := 0
	for k, l := range s.Levels {
		if k < 4 {
			parts = append(parts, l.Level+" "+share(l.N))
		} else {
			rest += l.N
		}
	}
	if len(s.Levels) > 4 {
		parts = append(parts, fmt.Sprintf("%d others %s", len(s.Levels)-4, share(rest)))
	}
	return strings.Join(parts, ", ")
}

// transformNames lists transforms as a spec writes them: "log1p, clip".
func transformNames(ts []features.Transform) string {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.Op
	}
	return strings.Join(names, ", ")
}

// writeSurvival is the card's section on survival by predicted response.
func writeSurvival(w *strings.Builder, res *train.Result) {
	w.WriteString("\n## Survival by predicted response\n\n")
	fmt.Fprintf(w, "The patients whose calibrated out-of-fold probability is at least the threshold (%.2f) against the others,\n", res.Options.Threshold)
	w.WriteString("on each survival endpoint asked for: Kaplan-Meier medians (months; 95% interval, Brookmeyer-Crowley on the\n")
	w.WriteString("log-log scale), the log-rank test, the Cox hazard ratio of the first group (Breslow ties) and Harrell's C of the\n")
	w.WriteString("probability itself. A model that ranks patients by who will respond should rank them by survival too\n")
	w.WriteString("(Chowell et al., Nat Biotechnol 2022); out-of-fold, the comparison carries no optimism from the training rows.\n")
	w.WriteString("It is a check of the model, not a treatment effect: the groups differ in everything the model reads.\n\n")
	for _, s := range res.Survival {
		name := strings.ToUpper(s.Endpoint)
		fmt.Fprintf(w, "### %s\n\n![%s by predicted response](%s)\n\n", name, name, plots.SurvivalFile(s.Endpoint))
		w.WriteString("| group | n | events | median (95% CI) |\n|---|---|---|---|\n")
		fmt.Fprintf(w, "| p >= %.2f | %d | %d | %s |\n", s.Threshold, s.High.N, s.High.Events, s.High.MedianText())
		fmt.Fprintf(w, "| p < %.2f | %d | %d | %s |\n\n", s.Threshold, s.Low.N, s.Low.Events, s.Low.MedianText())
		fmt.Fprintf(w, "Hazard ratio %.2f (95%% CI %.2f-%.2f, p %s); log-rank chi-squared %.2f, p %s; C-index %.3f. ",
			s.HazardRatio.HR, s.HazardRatio.Low, s.HazardRatio.High, stats.FormatP(s.HazardRatio.P), s.LogRankChi2, stats.FormatP(s.LogRankP), s.CIndex)
		fmt.Fprintf(w, "%d patients; %d without a follow-up or event status left out.\n\n", s.Patients, s.Missing)
	}
	for _, n := range res.SurvivalNotes {
		fmt.Fprintf(w, "- %s\n", n)
	}
}

// Recalibration writes the section that opens a recalibrated version's
// card; kept says the original kept bootstrap models for intervals, which
// this version does not carry.
func Recalibration(r *train.Recalibrated, kept bool) string {
	var w strings.Builder
	b, rc := r.Bundle, r.Bundle.Recalibrated
	fmt.Fprintf(&w, "# Model card: %s, recalibrated\n\n", b.Name)
	if b.Synthetic() {
		w.WriteString("> **SYNTHETIC data: not for clinical use.** The model or its recalibration used data from `abscopal synth`.\n\n")
	}
	w.WriteString("## Recalibration\n\n")
	if rc.Method == models.CalibrationIntercept {
		fmt.Fprintf(&w, "This version is %s's feature pipeline, model and calibration, with every patient's log-odds shifted\n", rc.From)
		fmt.Fprintf(&w, "by %+.3f (recalibration in the large: the slope kept), the shift that fits the %d\n", r.Shift, rc.Rows)
	} else {
		fmt.Fprintf(&w, "This version is %s's feature pipeline and model with a new calibration (%s), fitted on the %d\n", rc.From, rc.Method, rc.Rows)
	}
	fmt.Fprintf(&w, "labelled patients (%d positive) of `%s` (SHA-256 `%s`). Recalibration changes the probabilities,\n", rc.Positives, rc.DataFile, rc.DataSHA256)
	w.WriteString("not the order of the patients: the AUC stays what it was.\n\n")
	fmt.Fprintf(&w, "| on `%s` | before (%s's calibration) | after (in-sample) |\n|---|---|---|\n", rc.DataFile, rc.From)
	bm, am := r.Before, r.After
	fmt.Fprintf(&w, "| ROC AUC | %.3f | %.3f |\n", bm.AUC, am.AUC)
	fmt.Fprintf(&w, "| Brier score | %.4f | %.4f |\n", bm.Brier, am.Brier)
	fmt.Fprintf(&w, "| log loss | %.4f | %.4f |\n", bm.LogLoss, am.LogLoss)
	fmt.Fprintf(&w, "| calibration intercept (ideal 0) | %.3f | %.3f |\n", bm.CalIntercept, am.CalIntercept)
	fmt.Fprintf(&w, "| calibration slope (ideal 1) | %.3f | %.3f |\n", bm.CalSlope, am.CalSlope)
	fmt.Fprintf(&w, "| ICI, mean distance from the smoothed calibration curve (ideal 0) | %.3f | %.3f |\n\n", bm.ICI, am.ICI)
	w.WriteString("The \"after\" column is in-sample: the calibration was fitted on these patients, so it flatters itself.\n")
	w.WriteString("Validate the recalibrated model on other patients of the same setting (`abscopal evaluate`).\n\n")
	w.WriteString("![calibration before recalibration](recalibration.svg)\n\n")
	if kept {
		// The bootstrap models were calibrated as the original was: their
		// spread would be around its probabilities, not these.
		fmt.Fprintf(&w, "This version gives no intervals: %s's bootstrap models (its `bootstrap.json`) are calibrated as it was, and\n", rc.From)
		w.WriteString("are not carried over.\n\n")
	}
	fmt.Fprintf(&w, "The rest of this card is %s's, as trained: its performance figures are of its own calibration,\n", rc.From)
	w.WriteString("cross-validated on its training data.\n\n---\n\n")
	return w.String()
}

// SampleSize says, in the card's words, what Riley et al.'s criteria ask
// of the run and whether its rows meet them. algo names the model's
// algorithm: the criteria are derived for regression.
func SampleSize(s stats.SampleSize, algo string) string {
	var w strings.Builder
	fmt.Fprintf(&w, "%d rows with %d events for %d candidate parameters (the inputs' degrees of freedom: a categorical feature's levels less one): %.1f events per\n",
		s.Rows, s.Events, s.Parameters, float64(s.Events)/float64(s.Parameters))
	w.WriteString("parameter. Riley et al.'s minimum sample size for a prediction model of a binary outcome (Stat Med 2019;38:1276;\n")
	if s.Minimum == 0 {
		w.WriteString("BMJ 2020;368:m441) has no overfitting criteria to give: the out-of-fold probabilities do no better than the\n")
		fmt.Fprintf(&w, "base rate (Cox-Snell R² %.3f). The overall risk alone, within ±0.05, needs %d rows.\n", s.R2, s.ForRisk)
		return w.String()
	}
	fmt.Fprintf(&w, "BMJ 2020;368:m441), with this run's out-of-fold Cox-Snell R² of %.3f (largest possible %.3f) as the anticipated\n", s.R2, s.MaxR2)
	fmt.Fprintf(&w, "one: %d rows for an expected shrinkage of at least 0.9, %d for an optimism of at most 0.05 in Nagelkerke's R²,\n", s.ForShrinkage, s.ForOptimism)
	fmt.Fprintf(&w, "%d for the overall risk within ±0.05; **minimum %d** (%d events). ", s.ForRisk, s.Minimum, int(math.Ceil(float64(s.Minimum)*s.Prevalence)))
	if s.Met() {
		fmt.Fprintf(&w, "**Met**: an unpenalized regression on these rows\nwould expect shrinkage of %.2f.", s.ExpectedShrinkage)
	} else {
		fmt.Fprintf(&w, "**Not met: %d rows short.** An unpenalized regression on\n", s.Minimum-s.Rows)
		fmt.Fprintf(&w, "these rows would expect shrinkage of %.2f (its coefficients too large by %.0f%%); fewer inputs or more patients\n", s.ExpectedShrinkage, 100*(1/s.ExpectedShrinkage-1))
		w.WriteString("would help, and a penalty only in part (Riley et al., J Clin Epidemiol 2021;132:88).")
	}
	if alg, err := models.LookupAlgorithm(algo); err == nil && !alg.Regression {
		w.WriteString(" The criteria are derived for regression; tree ensembles need more rows for the same\ninputs (van der Ploeg et al., BMC Med Res Methodol 2014;14:137).")
	}
	w.WriteString("\n")
	return w.String()
}
