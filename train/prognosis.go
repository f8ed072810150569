package train

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"strings"

	"github.com/abscopal/abscopal/features"
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

// MinSurvivalGroup is the fewest patients each side of the threshold needs
// for the survival comparison.
const MinSurvivalGroup = 10

// ErrSurvival is wrapped by the errors of SurvivalByPrediction.
var ErrSurvival = errors.New("no survival comparison")

// SurvivalSplit is how the patients a model gives a probability at or above
// its threshold (predicted to respond) fared against the others on a
// survival endpoint: what Chowell et al. showed of their response model
// (Nat Biotechnol 2022), a check that it ranks patients by more than the
// label it learnt. Computed on out-of-fold probabilities, it is free of the
// optimism of the model's own training rows.
type SurvivalSplit struct {
	Endpoint  string        `json:"endpoint"`
	Threshold float64       `json:"threshold"`
	Patients  int           `json:"patients"`
	Missing   int           `json:"missing"` // left out: follow-up or event status null
	High      SurvivalGroup `json:"predicted_high"`
	Low       SurvivalGroup `json:"predicted_low"`
	// LogRankChi2 and LogRankP test the two groups' survival functions.
	LogRankChi2 float64 `json:"logrank_chi2"`
	LogRankP    float64 `json:"logrank_p"`
	// HazardRatio is the high group's against the low group's (Cox).
	HazardRatio HazardRatio `json:"hazard_ratio"`
	// CIndex is Harrell's C of the probability itself: the share of
	// comparable pairs in which the patient with the event first had the
	// lower probability.
	CIndex float64 `json:"c_index"`

	curves [2]KaplanMeier // high, low: for the plot
}

// SurvivalGroup is one side of a SurvivalSplit: its patients, events and
// median survival with its 95% interval (nil when not reached; High nil
// when the interval has no upper end).
type SurvivalGroup struct {
	N          int      `json:"n"`
	Events     int      `json:"events"`
	Median     *float64 `json:"median_months"`
	MedianLow  *float64 `json:"median_low"`
	MedianHigh *float64 `json:"median_high"`
}

// MedianText writes the group's median survival with its interval, in
// months: "12.9 (11.4-14.5)", "19.4 (8.6-not reached)", "not reached".
func (g SurvivalGroup) MedianText() string {
	if g.Median == nil {
		return "not reached"
	}
	s := fmt.Sprintf("%.1f", *g.Median)
	switch {
	case g.MedianLow == nil:
	case g.MedianHigh == nil:
		s += fmt.Sprintf(" (%.1f-not reached)", *g.MedianLow)
	default:
		s += fmt.Sprintf(" (%.1f-%.1f)", *g.MedianLow, *g.MedianHigh)
	}
	return s
}

// SurvivalOf reads an endpoint's follow-up and event status from each
// record; ok[i] is false where either is null. A follow-up that is negative
// or not finite, or an event status other than true/false or 0/1, is an
// error naming the record (counted from 1) and the column.
func SurvivalOf(endpoint string, records []features.Record) (time []float64, event, ok []bool, err error) {
	tc, ec, known := EndpointColumns(endpoint)
	if !known {
		return nil, nil, nil, fmt.Errorf("%w: unknown endpoint %q (allowed: %v)", ErrSurvival, endpoint, Endpoints())
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
		return 0, false, false, fmt.Errorf("%w: row %d, column %s: %v months (allowed: 0 or more)", ErrSurvival, rowOf(r, i), tc, t.Num)
	case e.Str != "":
		return 0, false, false, fmt.Errorf("%w: row %d, column %s: %q (allowed: true or false, or 1 or 0)", ErrSurvival, rowOf(r, i), ec, e.Str)
	case e.Num != 0 && e.Num != 1:
		return 0, false, false, fmt.Errorf("%w: row %d, column %s: %v (allowed: true or false, or 1 or 0)", ErrSurvival, rowOf(r, i), ec, e.Num)
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
func survivalByPrediction(endpoints []string, values []endpointValues, p []float64, threshold float64) ([]*SurvivalSplit, []string, error) {
	var (
		splits []*SurvivalSplit
		notes  []string
	)
	for k, e := range endpoints {
		ev := values[k]
		s, err := SurvivalByPrediction(e, p, ev.time, ev.event, ev.with, threshold)
		switch {
		case errors.Is(err, ErrSurvival):
			notes = append(notes, err.Error())
		case err != nil:
			return nil, nil, err
		default:
			splits = append(splits, s)
		}
	}
	return splits, notes, nil
}

// SurvivalByPrediction compares the survival of the patients whose
// probability p[i] is at least threshold with the others'; only the
// patients with ok[i] count. Each side needs MinSurvivalGroup patients.
func SurvivalByPrediction(endpoint string, p, time []float64, event, ok []bool, threshold float64) (*SurvivalSplit, error) {
	s := &SurvivalSplit{Endpoint: endpoint, Threshold: threshold}
	var tt, pp []float64
	var ee, high []bool
	for i := range p {
		if !ok[i] {
			s.Missing++
			continue
		}
		tt, ee, pp, high = append(tt, time[i]), append(ee, event[i]), append(pp, p[i]), append(high, p[i] >= threshold)
	}
	s.Patients = len(tt)
	var groups [2]struct {
		t []float64
		e []bool
	}
	for i := range tt {
		g := 1
		if high[i] {
			g = 0
		}
		groups[g].t, groups[g].e = append(groups[g].t, tt[i]), append(groups[g].e, ee[i])
	}
	for g, name := range []string{"at or above", "below"} {
		if n := len(groups[g].t); n < MinSurvivalGroup {
			return nil, fmt.Errorf("%w for %s: %d patients with a probability %s %.2f, fewer than %d (another --threshold may split them)",
				ErrSurvival, endpoint, n, name, threshold, MinSurvivalGroup)
		}
	}
	for g, dst := range []*SurvivalGroup{&s.High, &s.Low} {
		km := KaplanMeierOf(groups[g].t, groups[g].e)
		s.curves[g] = km
		dst.N = len(groups[g].t)
		for _, e := range groups[g].e {
			if e {
				dst.Events++
			}
		}
		if m, ok := km.Quantile(0.5); ok {
			dst.Median = &m
		}
		if lo, hi, ok := km.QuantileCI(0.5); ok {
			dst.MedianLow = &lo
			if !math.IsInf(hi, 1) {
				dst.MedianHigh = &hi
			}
		}
	}
	s.LogRankChi2, s.LogRankP = LogRank(tt, ee, high)
	hr, err := CoxBinary(tt, ee, high)
	if err != nil {
		return nil, fmt.Errorf("%w for %s: %w", ErrSurvival, endpoint, err)
	}
	s.HazardRatio = hr
	if s.CIndex = ConcordanceIndex(tt, ee, pp); math.IsNaN(s.CIndex) {
		return nil, fmt.Errorf("%w for %s: no pair of patients in which the one with the shorter follow-up had the event", ErrSurvival, endpoint)
	}
	return s, nil
}

// Describe is one line of the training summary: "HR 0.55 (0.45-0.68),
// log-rank p < 0.001, C 0.61".
func (s *SurvivalSplit) Describe() string {
	return fmt.Sprintf("HR %.2f (%.2f-%.2f) for p >= %.2f, log-rank p %s, C %.3f", s.HazardRatio.HR, s.HazardRatio.Low, s.HazardRatio.High,
		s.Threshold, FormatP(s.LogRankP), s.CIndex)
}

// FormatP writes a p-value as journals do: "< 0.001" below it.
func FormatP(p float64) string {
	if p < 0.001 {
		return "< 0.001"
	}
	return fmt.Sprintf("%.3f", p)
}

// SurvivalPlot is the name of an endpoint's plot in a model version:
// survival_os.svg.
func SurvivalPlot(endpoint string) string { return "survival_" + endpoint + ".svg" }

// SurvivalSVG draws the Kaplan-Meier curves of the two groups of a
// SurvivalSplit, each to its longest follow-up, under title.
func SurvivalSVG(s *SurvivalSplit, title string) ([]byte, error) {
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
	for g, km := range s.curves {
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
			s.HazardRatio.HR, s.HazardRatio.Low, s.HazardRatio.High, FormatP(s.HazardRatio.P), s.LogRankChi2, FormatP(s.LogRankP), s.CIndex)
		fmt.Fprintf(w, "%d patients; %d without a follow-up or event status left out.\n\n", s.Patients, s.Missing)
	}
	for _, n := range res.SurvivalNotes {
		fmt.Fprintf(w, "- %s\n", n)
	}
}
