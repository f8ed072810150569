package train

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"strings"

	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/stats"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Endpoints returns the survival endpoints a response model's predictions
// may be set against, each read from two columns named as the cohort schema
// (and the real cohort of bench/README.md) names them: ENDPOINT_months,
// the follow-up, and ENDPOINT_event, whether it ended with the event.
func Endpoints() []string { return []string{"os", "pfs"} }

// EndpointColumns returns the time and event columns of an endpoint, and
// false for an endpoint not in Endpoints.
func EndpointColumns(endpoint string) (time, event string, ok bool) {
	for _, e := range Endpoints() {
		if e == endpoint {
			return e + "_months", e + "_event", true
		}
	}
	return "", "", false
}

// SurvivalOf reads an endpoint's follow-up and event status from each
// record; ok[i] is false where either is null. A follow-up that is negative
// or not finite, or an event status other than true/false or 0/1, is an
// error naming the record (counted from 1) and the column.
func SurvivalOf(endpoint string, records []features.Record) (time []float64, event, ok []bool, err error) {
	tc, ec, known := EndpointColumns(endpoint)
	if !known {
		return nil, nil, nil, fmt.Errorf("%w: unknown endpoint %q (allowed: %v)", stats.ErrSurvival, endpoint, Endpoints())
	}
	time, event, ok = make([]float64, len(records)), make([]bool, len(records)), make([]bool, len(records))
	for i, r := range records {
		if time[i], event[i], ok[i], err = survivalOf(tc, ec, r, i); err != nil {
			return nil, nil, nil, err
		}
	}
	return time, event, ok, nil
}

// survivalOf reads the follow-up and event status of record r, the i-th
// (from 0), from columns tc and ec; ok is false where either is null.
func survivalOf(tc, ec string, r features.Record, i int) (time float64, event, ok bool, err error) {
	t, e := r.Value(tc), r.Value(ec)
	if !t.Valid || !e.Valid {
		return 0, false, false, nil
	}
	switch {
	case math.IsNaN(t.Num) || math.IsInf(t.Num, 0) || t.Num < 0:
		return 0, false, false, fmt.Errorf("%w: row %d, column %s: %v months (allowed: 0 or more)", stats.ErrSurvival, rowOf(r, i), tc, t.Num)
	case e.Str != "":
		return 0, false, false, fmt.Errorf("%w: row %d, column %s: %q (allowed: true or false, or 1 or 0)", stats.ErrSurvival, rowOf(r, i), ec, e.Str)
	case e.Num != 0 && e.Num != 1:
		return 0, false, false, fmt.Errorf("%w: row %d, column %s: %v (allowed: true or false, or 1 or 0)", stats.ErrSurvival, rowOf(r, i), ec, e.Num)
	}
	return t.Num, e.Bool || e.Num == 1, true, nil
}

// rowOf is a record's row in its file when the source numbered it, else
// its place among the records, counted from 1.
func rowOf(r features.Record, i int) int64 {
	if n, ok := r.(features.Numbered); ok {
		return n.RowNumber()
	}
	return int64(i + 1)
}

// endpointValues are an endpoint's follow-up and event status, row by row;
// with is false where either is null.
type endpointValues struct {
	time        []float64
	event, with []bool
}

// survivalByPrediction runs SurvivalByPrediction for each endpoint, with
// its values; an endpoint that allows no comparison (too few patients on a
// side) gives a note instead, not an error.
func survivalByPrediction(endpoints []string, values []endpointValues, p []float64, threshold float64) ([]*stats.SurvivalSplit, []string, error) {
	var (
		splits []*stats.SurvivalSplit
		notes  []string
	)
	for k, e := range endpoints {
		ev := values[k]
		s, err := stats.SurvivalByPrediction(e, p, ev.time, ev.event, ev.with, threshold)
		switch {
		case errors.Is(err, stats.ErrSurvival):
			notes = append(notes, err.Error())
		case err != nil:
			return nil, nil, err
		default:
			splits = append(splits, s)
		}
	}
	return splits, notes, nil
}

// SurvivalPlot is the name of an endpoint's plot in a model version:
// survival_os.svg.
func SurvivalPlot(endpoint string) string { return "survival_" + endpoint + ".svg" }

// SurvivalSVG draws the Kaplan-Meier curves of the two groups of a
// SurvivalSplit, each to its longest follow-up, under title.
func SurvivalSVG(s *stats.SurvivalSplit, title string) ([]byte, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "months"
	p.Y.Label.Text = "survival probability (" + strings.ToUpper(s.Endpoint) + ")"
	p.Y.Min, p.Y.Max = 0, 1
	p.Add(plotter.NewGrid())
	colors := []color.Color{color.RGBA{R: 31, G: 119, B: 180, A: 255}, color.RGBA{R: 214, G: 39, B: 40, A: 255}}
	// Short names: the counts are in the card's table, and long legend
	// text outgrows its box where the viewer's font is wider than
	// gonum/plot's.
	names := []string{fmt.Sprintf("p >= %.2f", s.Threshold), fmt.Sprintf("p < %.2f", s.Threshold)}
	for g, km := range s.Curves {
		steps := plotter.XYs{{X: 0, Y: 1}}
		prev := 1.0
		for i, t := range km.Times {
			steps = append(steps, plotter.XY{X: t, Y: prev}, plotter.XY{X: t, Y: km.Surv[i]})
			prev = km.Surv[i]
		}
		steps = append(steps, plotter.XY{X: km.End, Y: prev})
		line, err := plotter.NewLine(steps)
		if err != nil {
			return nil, err
		}
		line.Color = colors[g]
		line.Width = vg.Points(1.2)
		p.Add(line)
		p.Legend.Add(names[g], line)
	}
	p.X.Min = 0
	// Top right, where the curves have fallen; clear of the margin svgOf
	// crops.
	p.Legend.Top = true
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(16), -vg.Points(4)
	return svgOf(p, 5*vg.Inch, 4*vg.Inch)
}

// writeSurvival is the card's section on survival by predicted response.
func writeSurvival(w *strings.Builder, res *Result) {
	w.WriteString("\n## Survival by predicted response\n\n")
	fmt.Fprintf(w, "The patients whose calibrated out-of-fold probability is at least the threshold (%.2f) against the others,\n", res.Options.Threshold)
	w.WriteString("on each survival endpoint asked for: Kaplan-Meier medians (months; 95% interval, Brookmeyer-Crowley on the\n")
	w.WriteString("log-log scale), the log-rank test, the Cox hazard ratio of the first group (Breslow ties) and Harrell's C of the\n")
	w.WriteString("probability itself. A model that ranks patients by who will respond should rank them by survival too\n")
	w.WriteString("(Chowell et al., Nat Biotechnol 2022); out-of-fold, the comparison carries no optimism from the training rows.\n")
	w.WriteString("It is a check of the model, not a treatment effect: the groups differ in everything the model reads.\n\n")
	for _, s := range res.Survival {
		name := strings.ToUpper(s.Endpoint)
		fmt.Fprintf(w, "### %s\n\n![%s by predicted response](%s)\n\n", name, name, SurvivalPlot(s.Endpoint))
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
