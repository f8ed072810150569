package workflow

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/stats"
	"github.com/abscopal/abscopal/train"
)

// ModelEntry is one version of a registry's listing.
type ModelEntry struct {
	Name      string   `json:"name"`
	Version   string   `json:"version"`
	Aliases   []string `json:"aliases"`
	Algo      string   `json:"algo,omitempty"`
	Target    string   `json:"target,omitempty"`
	Outcome   string   `json:"outcome,omitempty"` // with its threshold: pneumonitis_grade >= 2
	Rows      int      `json:"rows,omitempty"`
	Synthetic bool     `json:"trained_on_synthetic_data"`
	// RecalibratedFrom names the version whose model this one recalibrates;
	// the cross-validated metrics are that version's.
	RecalibratedFrom string        `json:"recalibrated_from,omitempty"`
	CrossValidated   stats.Metrics `json:"cross_validated,omitzero"`
	// Instability is the stability analysis of a version trained with
	// one.
	Instability *stats.Instability `json:"instability,omitempty"`
	Error       string             `json:"error,omitempty"` // why the version cannot be loaded
	// Survival holds a time-to-event model's cross-validated metrics
	// (CrossValidated, a classifier's, is then empty).
	Survival *train.SurvivalMetrics `json:"survival,omitempty"`
}

// SurvivalMetricsOf reads the cross-validated metrics a time-to-event
// bundle recorded; nil for a classifier's.
func SurvivalMetricsOf(b *models.Bundle) *train.SurvivalMetrics {
	if !b.TimeToEvent() {
		return nil
	}
	var m struct {
		CV train.SurvivalMetrics `json:"cross_validated"`
	}
	if json.Unmarshal(b.Metrics, &m) != nil {
		return nil
	}
	return &m.CV
}

// ListModels reads every version of every model of r, with its aliases; a
// version that cannot be loaded is listed with the reason.
func ListModels(r *models.Registry) ([]ModelEntry, error) {
	names, err := r.Names()
	if err != nil {
		return nil, err
	}
	entries := []ModelEntry{}
	for _, n := range names {
		versions, err := r.Versions(n)
		if err != nil {
			entries = append(entries, ModelEntry{Name: n, Aliases: []string{}, Error: err.Error()})
			continue
		}
		aliases, _ := r.Aliases(n)
		for _, v := range versions {
			e := ModelEntry{Name: n, Version: v, Aliases: []string{}}
			for a, av := range aliases {
				if av == v {
					e.Aliases = append(e.Aliases, a)
				}
			}
			sort.Strings(e.Aliases)
			m, err := r.Load(n + ":" + v)
			if err != nil {
				e.Error = err.Error()
			} else {
				b := m.Bundle
				e.Algo, e.Target, e.Outcome, e.Rows, e.Synthetic = b.Algo, b.Target, b.Outcome(), b.Training.Rows, b.Synthetic()
				if e.Survival = SurvivalMetricsOf(b); e.Survival == nil {
					e.CrossValidated, e.Instability = b.RecordedMetrics()
				}
				if b.Recalibrated != nil {
					e.RecalibratedFrom = b.Recalibrated.From
				}
			}
			entries = append(entries, e)
		}
	}
	return entries, nil
}

// Check is one line of a registry's verification.
type Check struct {
	What  string // NAME:VERSION, NAME@ALIAS -> VERSION, or a leftover's path
	Fault string // "" when it is sound
	// Leftover marks what a killed publish or alias move left, and Removed
	// that it was removed.
	Leftover, Removed bool
}

// Verification is a registry's audit.
type Verification struct {
	Checks []Check
	Faults int
}

// staleAfter is the age past which a leftover is surely a killed process's:
// a publish holds its temporary directory for the seconds it takes to
// write its files, an alias move its file for less.
const staleAfter = time.Minute

// Verify reads every version of every model of r, checks each file against
// the version's MANIFEST and decodes its bundle, and checks that each
// alias points at a version that exists. It removes the leftovers of
// killed publishes and alias moves older than a minute (younger ones may
// be another process's, at work), and lists them.
func Verify(r *models.Registry, now time.Time) (*Verification, error) {
	names, err := r.Names()
	if err != nil {
		return nil, err
	}
	v := &Verification{}
	fault := func(what, format string, a ...any) {
		v.Faults++
		v.Checks = append(v.Checks, Check{What: what, Fault: fmt.Sprintf(format, a...)})
	}
	for _, n := range names {
		versions, err := r.Versions(n)
		if err != nil {
			fault(n, "%v", err)
			continue
		}
		for _, ver := range versions {
			if _, err := r.Load(n + ":" + ver); err != nil {
				fault(n+":"+ver, "%v", err)
				continue
			}
			v.Checks = append(v.Checks, Check{What: n + ":" + ver})
		}
		aliases, err := r.Aliases(n)
		if err != nil {
			fault(n, "aliases: %v", err)
			continue
		}
		for _, a := range slices.Sorted(maps.Keys(aliases)) {
			if ver := aliases[a]; !slices.Contains(versions, ver) {
				fault(n+"@"+a, "points at %q, which is not a version", ver)
			} else {
				v.Checks = append(v.Checks, Check{What: n + "@" + a + " -> " + ver})
			}
		}
	}
	leftovers, err := r.Leftovers()
	if err != nil {
		return nil, err
	}
	for _, l := range leftovers {
		c := Check{What: l.Path, Leftover: true}
		if now.Sub(l.ModTime) >= staleAfter {
			if err := r.RemoveLeftover(l); err != nil {
				c.Fault = fmt.Sprintf("left by a process killed while it wrote: %v", err)
				v.Faults++
			} else {
				c.Removed = true
			}
		}
		v.Checks = append(v.Checks, c)
	}
	return v, nil
}
