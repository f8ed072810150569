// Package plots draws the figures of a model card and of an evaluation as
// SVG, with gonum/plot: the calibration plot (deciles with their intervals
// and the smoothed curve), the decision curve, Riley and Collins's
// prediction instability plot, and Kaplan-Meier curves by prediction.
package plots

import (
	"bytes"
	"fmt"
	"image/color"
	"slices"
	"sort"
	"strings"

	"github.com/abscopal/abscopal/stats"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// instabilityPlotRows bounds the rows InstabilitySVG draws, a line each,
// so that the plot stays a small file whatever the training set's size.
const instabilityPlotRows = 2000

// InstabilitySVG draws Riley and Collins's prediction instability plot: for
// each training row (at most instabilityPlotRows, evenly spaced by
// probability), the central 95% of its bootstrap models' probabilities
// against the model's, with the diagonal on which a stable model's would
// lie and the classification threshold.
func InstabilitySVG(ins *stats.Instability, title string) ([]byte, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "probability from the model"
	p.Y.Label.Text = "from bootstrap models (central 95%)"
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	rows := slices.Clone(ins.Rows)
	sort.SliceStable(rows, func(a, b int) bool { return rows[a].P < rows[b].P })
	if len(rows) > instabilityPlotRows {
		kept := make([]stats.RowRange, instabilityPlotRows)
		for i := range kept {
			kept[i] = rows[i*len(rows)/instabilityPlotRows]
		}
		rows = kept
	}
	var segments []plot.Plotter
	for _, r := range rows {
		l, err := plotter.NewLine(plotter.XYs{{X: r.P, Y: r.Lo}, {X: r.P, Y: r.Hi}})
		if err != nil {
			return nil, err
		}
		l.Color = color.NRGBA{R: 31, G: 119, B: 180, A: 90}
		l.Width = vg.Points(0.6)
		segments = append(segments, l)
	}
	diag, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
	if err != nil {
		return nil, err
	}
	diag.Color = color.Gray{Y: 60}
	diag.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	cut, err := plotter.NewLine(plotter.XYs{{X: 0, Y: ins.Threshold}, {X: 1, Y: ins.Threshold}})
	if err != nil {
		return nil, err
	}
	cut.Color = color.RGBA{R: 214, G: 39, B: 40, A: 255}
	cut.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
	p.Add(plotter.NewGrid())
	p.Add(segments...)
	p.Add(diag, cut)
	if len(segments) > 0 {
		p.Legend.Add("a row's bootstrap range", segments[0].(*plotter.Line))
	}
	p.Legend.Add("stable: the model's own", diag)
	p.Legend.Add(fmt.Sprintf("threshold %.2f", ins.Threshold), cut)
	// Top left: above the diagonal at low probabilities, where the
	// bootstrap models' ranges seldom reach.
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.XOffs, p.Legend.YOffs = vg.Points(8), -vg.Points(4)
	return svgOf(p, 5*vg.Inch, 5*vg.Inch)
}

// DecisionCurveSVG draws the net benefit of acting on the model's
// probability at each threshold of its decision curve, against acting on
// every patient and on none (Vickers and Elkin 2006), under title.
func DecisionCurveSVG(m stats.Metrics, title string) ([]byte, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "threshold probability (act when p >= it)"
	p.Y.Label.Text = "net benefit per patient"
	model := make(plotter.XYs, len(m.DecisionCurve))
	top := 0.0
	for i, nb := range m.DecisionCurve {
		model[i] = plotter.XY{X: nb.Threshold, Y: nb.Model}
		top = max(top, nb.Model, nb.TreatAll)
	}
	first, last := m.DecisionCurve[0].Threshold, m.DecisionCurve[len(m.DecisionCurve)-1].Threshold
	// Acting on all patients loses fast at high thresholds: its line stops
	// a little below 0, where it would only squeeze the model's.
	bottom := -max(0.05, top/4)
	var all plotter.XYs
	for i, nb := range m.DecisionCurve {
		if nb.TreatAll >= bottom {
			all = append(all, plotter.XY{X: nb.Threshold, Y: nb.TreatAll})
			continue
		}
		if i > 0 { // where it crosses the bottom
			prev := m.DecisionCurve[i-1]
			f := (prev.TreatAll - bottom) / (prev.TreatAll - nb.TreatAll)
			all = append(all, plotter.XY{X: prev.Threshold + f*(nb.Threshold-prev.Threshold), Y: bottom})
		}
		break
	}
	none, err := plotter.NewLine(plotter.XYs{{X: first, Y: 0}, {X: last, Y: 0}})
	if err != nil {
		return nil, err
	}
	none.Color = color.Gray{Y: 100}
	allLine, err := plotter.NewLine(all)
	if err != nil {
		return nil, err
	}
	allLine.Color = color.Gray{Y: 150}
	allLine.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	line, points, err := plotter.NewLinePoints(model)
	if err != nil {
		return nil, err
	}
	line.Color = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	points.Color = line.Color
	p.Add(plotter.NewGrid(), none, allLine, line, points)
	// After Add, which widens the axes to the data.
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = first, last, bottom, top*1.1+0.01
	p.Legend.Add("model", line, points)
	p.Legend.Add("act on all", allLine)
	p.Legend.Add("act on none", none)
	p.Legend.Top = true
	return svgOf(p, 5*vg.Inch, 4*vg.Inch)
}

// CalibrationSVG draws the calibration curve (deciles of predicted
// probability against observed rates, and the smoothed curve through every
// row) with the diagonal of perfect calibration, under title (which may
// hold a line break).
func CalibrationSVG(m stats.Metrics, title string) ([]byte, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "predicted probability"
	p.Y.Label.Text = "observed rate"
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	diag, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
	if err != nil {
		return nil, err
	}
	diag.Color = color.Gray{Y: 150}
	diag.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	pts := make(plotter.XYs, len(m.Curve))
	for i, b := range m.Curve {
		pts[i] = plotter.XY{X: b.Predicted, Y: b.Observed}
	}
	line, points, err := plotter.NewLinePoints(pts)
	if err != nil {
		return nil, err
	}
	line.Color = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	points.Color = line.Color
	bars, err := plotter.NewYErrorBars(curveErrors(m.Curve))
	if err != nil {
		return nil, err
	}
	bars.Color = line.Color
	p.Add(plotter.NewGrid(), diag, bars, line, points)
	p.Legend.Add("deciles (95% CI)", line, points)
	if len(m.Smooth) > 1 {
		xy := make(plotter.XYs, len(m.Smooth))
		for i, s := range m.Smooth {
			xy[i] = plotter.XY{X: s.Predicted, Y: s.Observed}
		}
		smooth, err := plotter.NewLine(xy)
		if err != nil {
			return nil, err
		}
		smooth.Color = color.RGBA{R: 214, G: 39, B: 40, A: 255}
		smooth.Width = vg.Points(1.5)
		p.Add(smooth)
		p.Legend.Add(fmt.Sprintf("smoothed (lowess; ICI %.3f)", m.ICI), smooth)
	}
	p.Legend.Add("perfect", diag)
	// Top left: empty unless the model under-predicts badly.
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.XOffs, p.Legend.YOffs = vg.Points(8), -vg.Points(4)
	return svgOf(p, 5*vg.Inch, 5*vg.Inch)
}

// svgOf renders p as an SVG of width w and height h, with a margin on the
// right, where the last tick label (1.0) would be cut.
func svgOf(p *plot.Plot, w, h vg.Length) ([]byte, error) {
	c := vgsvg.New(w, h)
	p.Draw(draw.Crop(draw.New(c), 0, -vg.Points(12), 0, 0))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// curveErrors gives plotter the decile points with their intervals.
type curveErrors []stats.CurveBin

func (c curveErrors) Len() int                { return len(c) }
func (c curveErrors) XY(i int) (x, y float64) { return c[i].Predicted, c[i].Observed }
func (c curveErrors) YError(i int) (low, high float64) {
	return c[i].Observed - c[i].ObservedLow, c[i].ObservedHigh - c[i].Observed
}

// SurvivalFile is the name of an endpoint's plot in a model version:
// survival_os.svg.
func SurvivalFile(endpoint string) string { return "survival_" + endpoint + ".svg" }

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

// SurvivalCalibrationFile is the name of a time-to-event model's
// calibration plot among its version's files.
const SurvivalCalibrationFile = "calibration_survival.svg"

// SurvivalCalibrationSVG draws a time-to-event model's calibration at each
// time: for each tenth of the patients by predicted survival, the mean
// prediction against the Kaplan-Meier estimate (predicted[k][g] and
// observed[k][g] at times[k]), with the diagonal of perfect calibration.
func SurvivalCalibrationSVG(times []float64, predicted, observed [][]float64, unit, title string) ([]byte, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "predicted probability of being event-free"
	p.Y.Label.Text = "observed (Kaplan-Meier)"
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	diag, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
	if err != nil {
		return nil, err
	}
	diag.Color = color.Gray{Y: 150}
	diag.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(plotter.NewGrid(), diag)
	palette := []color.Color{color.RGBA{R: 31, G: 119, B: 180, A: 255}, color.RGBA{R: 214, G: 39, B: 40, A: 255},
		color.RGBA{R: 44, G: 160, B: 44, A: 255}, color.RGBA{R: 148, G: 103, B: 189, A: 255}}
	for k, t := range times {
		pts := make(plotter.XYs, len(predicted[k]))
		for g := range pts {
			pts[g] = plotter.XY{X: predicted[k][g], Y: observed[k][g]}
		}
		line, points, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, err
		}
		line.Color, points.Color = palette[k%len(palette)], palette[k%len(palette)]
		p.Add(line, points)
		p.Legend.Add(fmt.Sprintf("at %g %s", t, unit), line, points)
	}
	p.Legend.Add("perfect", diag)
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.XOffs, p.Legend.YOffs = vg.Points(8), -vg.Points(4)
	return svgOf(p, 5*vg.Inch, 5*vg.Inch)
}
