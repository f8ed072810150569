package card

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/plots"
	"github.com/abscopal/abscopal/train"
)

// SurvivalMarkdown renders the model card of a time-to-event model:
// intended use, data, the cross-validated discrimination and calibration at
// each time, and the coefficients.
func SurvivalMarkdown(b *models.Bundle, res *train.SurvivalResult) string {
	var w strings.Builder
	m, t, tg := res.Metrics, b.Training, res.Pipeline.Spec.Target
	fmt.Fprintf(&w, "# Model card: %s\n\n", b.Name)
	if t.Synthetic {
		w.WriteString("> **Trained on SYNTHETIC data: not for clinical use.** The data came from `abscopal synth`, a generative\n")
		w.WriteString("> model tuned to published rates. This model is a demonstration of the software, not clinical evidence.\n\n")
	}
	fmt.Fprintf(&w, "Predicts each patient's survival curve for the **%s** (%s): the probability of being event-free at\n", tg.Name(), tg)
	fmt.Fprintf(&w, "%s and the median time to the event, with per-feature contributions to the log hazard. Algorithm: `%s`,\n", timesText(m.Times), b.Algo)
	if g := res.Model.Boosted; g != nil {
		fmt.Fprintf(&w, "a boosted Cox model: %d trees of depth %d (learning rate %g, L2 %g on leaves", len(g.Trees), g.Opts.MaxDepth, g.Opts.LearningRate, g.Opts.Lambda)
		if g.BestRound > 0 {
			fmt.Fprintf(&w, ", the rounds chosen by early stopping on the partial likelihood of a held-out %g", g.Opts.ValidationShare)
		}
		w.WriteString(") boosting the partial likelihood with Breslow's ties, as xgboost's survival:cox; Breslow's baseline hazard of its scores")
	} else {
		fmt.Fprintf(&w, "a Cox proportional hazards model (Efron's ties, Breslow's baseline hazard) with an elastic-net penalty, lambda %s\n", train.FormatLambda(res.Lambda))
		fmt.Fprintf(&w, "per patient and L1 share %g", res.Options.Alpha)
	}
	if res.Options.Tune {
		folds := make([]string, len(res.FoldLambdas))
		for i, l := range res.FoldLambdas {
			folds[i] = train.FormatLambda(l)
		}
		fmt.Fprintf(&w, ", the penalty chosen by the cross-validated partial likelihood of a %d-fold cross-validation of the\ntraining rows (nested: per fold %s)", train.InnerFolds, strings.Join(folds, ", "))
	}
	fmt.Fprintf(&w, ". Built by abscopal %s (%s", t.AbscopalVersion, t.GoVersion)
	if t.Commit != "" {
		fmt.Fprintf(&w, ", commit %s", t.Commit)
	}
	w.WriteString(").\n\n")

	w.WriteString("## Intended use\n\n")
	w.WriteString("- **For**: research on survival after immune checkpoint inhibitors with or without radiotherapy in patients like\n")
	w.WriteString("  those of the training data; comparing candidate regimens for discussion; as one input among many.\n")
	w.WriteString("- **Not for**: treatment decisions without a clinician; patients unlike the training data; any use before external\n")
	w.WriteString("  validation in the target population. The proportional-hazards assumption is not checked here.\n\n")

	w.WriteString("## Data\n\n")
	fmt.Fprintf(&w, "- File: `%s` (SHA-256 `%s`)\n", t.DataFile, t.DataSHA256)
	fmt.Fprintf(&w, "- Patients: %d with a follow-up time and an event status (%d events, %d censored); %d without either left out\n",
		res.Rows, res.Events, res.Rows-res.Events, res.DroppedRows)
	fmt.Fprintf(&w, "- Features: %d, from %d pipeline outputs; a missing value is imputed from the training rows and flagged\n\n",
		len(res.Pipeline.Spec.Features), res.Pipeline.NumOutputs())

	fmt.Fprintf(&w, "## Cross-validated performance (%d folds stratified by event, seed %d)\n\n", res.Options.Folds, res.Options.Seed)
	fmt.Fprintf(&w, "Harrell's C of the out-of-fold linear predictor: **%.3f** (95%% CI %.3f-%.3f, %d bootstrap resamples); Uno's C to\n",
		m.C, m.CLow, m.CHigh, res.Options.Bootstrap)
	fmt.Fprintf(&w, "%g (its pairs weighted by the inverse square of the censoring distribution, so that it does not depend on the\ncensoring): %.3f (%.3f-%.3f).\n\n", m.Times[len(m.Times)-1], m.Uno, m.UnoLow, m.UnoHigh)
	w.WriteString("| time | AUC(t) | Brier score | null model's Brier | \n|---|---|---|---|\n")
	for k, at := range m.Times {
		fmt.Fprintf(&w, "| %g | %s | %.4f | %.4f |\n", at, num3(m.AUC[k]), m.Brier[k], m.NullBrier[k])
	}
	fmt.Fprintf(&w, "\nIntegrated Brier score to %g: %.4f (the Kaplan-Meier null model's: %.4f; lower is better). AUC(t) is the\n", m.Times[len(m.Times)-1], m.IBS, m.NullIBS)
	w.WriteString("cumulative/dynamic area under the ROC curve; AUC(t) and the Brier scores weigh patients by the inverse probability of\n")
	w.WriteString("censoring (Kaplan-Meier), as riskRegression's Score does.\n\n")
	if len(res.Groups) > 0 {
		fmt.Fprintf(&w, "By %s (out-of-fold, each subgroup judged on its own patients):\n\n", res.Options.By)
		w.WriteString("| " + res.Options.By + " | patients | events | Harrell's C | integrated Brier (null) |\n|---|---|---|---|---|\n")
		for _, g := range res.Groups {
			if g.Metrics == nil {
				fmt.Fprintf(&w, "| %s | %d | %d | - | - |\n", g.Value, g.N, g.Events)
				continue
			}
			fmt.Fprintf(&w, "| %s | %d | %d | %.3f (%.3f-%.3f) | %.4f (%.4f) |\n", g.Value, g.N, g.Events, g.Metrics.C, g.Metrics.CLow, g.Metrics.CHigh, g.Metrics.IBS, g.Metrics.NullIBS)
		}
		w.WriteString("\n")
	}
	w.WriteString("### Calibration at each time\n\n")
	fmt.Fprintf(&w, "![calibration](%s)\n\n", plots.SurvivalCalibrationFile)
	w.WriteString("Patients by tenth of predicted survival: mean prediction / Kaplan-Meier estimate.\n\n")
	w.WriteString("| tenth |")
	for _, at := range m.Times {
		fmt.Fprintf(&w, " at %g |", at)
	}
	w.WriteString("\n|---|" + strings.Repeat("---|", len(m.Times)) + "\n")
	for g := range m.Calibration[0] {
		fmt.Fprintf(&w, "| %d |", g+1)
		for k := range m.Times {
			if g < len(m.Calibration[k]) {
				d := m.Calibration[k][g]
				fmt.Fprintf(&w, " %.2f / %.2f |", d.Predicted, d.Observed)
			}
		}
		w.WriteString("\n")
	}

	if ins := res.Instability; ins != nil {
		w.WriteString("\n## Stability of the predictions\n\n")
		fmt.Fprintf(&w, "%d bootstrap models were developed as the model was, each on a bootstrap sample of the training rows (its own\n", ins.Bootstraps)
		w.WriteString("pipeline and fit, the same options; a tuned penalty is the model's own). How far their survival strays from the\n")
		w.WriteString("model's over the training rows (Riley and Collins's MAPE, of S(t)):\n\n")
		w.WriteString("| time | mean absolute difference | mean width of the rows' 95% |\n|---|---|---|\n")
		for k, at := range ins.Times {
			fmt.Fprintf(&w, "| %g | %.3f | %.3f |\n", at, ins.MAPE[k], ins.Width95[k])
		}
		if len(res.Bootstrap) > 0 {
			w.WriteString("\nThis version kept them (bootstrap.json): a patient's median is given with the central 95% of the bootstrap\n")
			w.WriteString("models' medians, how far it depends on which patients the model happened to be developed on (not a prediction\n")
			w.WriteString("interval of the patient's own time).\n")
		} else {
			w.WriteString("\nThis version gives no intervals of the median (train --instability B --intervals keeps the bootstrap models).\n")
		}
	}
	if res.Model.Cox == nil {
		return w.String()
	}
	w.WriteString("\n## Coefficients\n\n")
	w.WriteString("The largest log hazard ratios per unit of the pipeline's output (standardised features: per standard deviation):\n\n")
	w.WriteString("| output | log hazard ratio | hazard ratio |\n|---|---|---|\n")
	idx := make([]int, len(res.Model.Cox.Coef))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		return math.Abs(res.Model.Cox.Coef[idx[a]]) > math.Abs(res.Model.Cox.Coef[idx[b]])
	})
	for _, j := range idx[:min(15, len(idx))] {
		c := res.Model.Cox.Coef[j]
		if c == 0 {
			break
		}
		fmt.Fprintf(&w, "| %s | %+.3f | %.2f |\n", res.Pipeline.Outputs[j], c, math.Exp(c))
	}
	return w.String()
}

func timesText(ts []float64) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = fmt.Sprintf("%g", t)
	}
	return strings.Join(parts, ", ")
}

func num3(x float64) string {
	if math.IsNaN(x) {
		return "-"
	}
	return fmt.Sprintf("%.3f", x)
}
