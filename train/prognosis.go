package train

import (
	"errors"
	"fmt"
	"math"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/stats"
)

// SurvivalOf reads an endpoint's follow-up and event status from each
// record; ok[i] is false where either is null. A follow-up that is negative
// or not finite, or an event status other than true/false or 0/1, is an
// error naming the record (counted from 1) and the column.
func SurvivalOf(endpoint string, records []features.Record) (time []float64, event, ok []bool, err error) {
	e, known := data.EndpointOf(endpoint)
	if !known {
		return nil, nil, nil, fmt.Errorf("%w: unknown endpoint %q (allowed: %v)", stats.ErrSurvival, endpoint, data.EndpointNames())
	}
	tc, ec := e.Time, e.Event
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
