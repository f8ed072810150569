package api

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/internal/cardhtml"
	"github.com/abscopal/abscopal/models"
)

// modelSet is the immutable set of models being served.
type modelSet struct {
	byName   map[string]*models.Model // every model: its production alias, else its latest version
	byTarget map[string]*models.Model // the v1 model of each target
	groups   map[*models.Model]*outputGroups
	// docs holds each model's card.md and plots (*.svg), read and verified
	// with its bundle at load: GET /v1/models/{name} and its files then
	// serve those of the model that answers, without reading and hashing
	// the version's files (a forest's bundle is megabytes) on every request.
	docs map[*models.Model]map[string][]byte
	// aliases are the aliases that point at each model's version, with
	// since when (the registry's alias history), read at load.
	aliases map[*models.Model][]modelAlias
	// monitors are each model's prediction metrics (Server.Reload adds
	// them: they are the server's).
	monitors map[*models.Model]*monitor
	// v1Models names the models that answer /v1 ("abscopal:v3
	// response:v1"), for the request log: made once per set, not per request.
	v1Models string
}

// outputGroups maps each pipeline output (a level, a missing indicator) to
// its feature, computed once per model so that a prediction's contributions
// sum by feature without string work.
type outputGroups struct {
	feature []int    // per output, the index of its feature
	names   []string // feature names
}

func groupOutputs(p *features.Pipeline) *outputGroups {
	of, names := p.OutputGroups()
	return &outputGroups{feature: of, names: names}
}

// loadModels loads every model of the registry. For each v1 target, the
// model serving it is the first by name among those trained with the
// built-in spec for that target, else the first by name among those whose
// spec reads cohort-schema columns only (a researcher's features of cohort
// files): a v1 patient gives either every input it needs.
func loadModels(reg *models.Registry) (*modelSet, error) {
	names, err := reg.Names()
	if err != nil {
		return nil, err
	}
	set := &modelSet{byName: map[string]*models.Model{}, byTarget: map[string]*models.Model{}, groups: map[*models.Model]*outputGroups{}, docs: map[*models.Model]map[string][]byte{},
		aliases: map[*models.Model][]modelAlias{}}
	var errs []error
	for _, n := range names {
		m, files, err := reg.LoadFiles(n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		set.byName[n] = m
		docs := map[string][]byte{}
		for f, b := range files {
			if f == "card.md" || strings.HasSuffix(f, ".svg") {
				docs[f] = b
			}
		}
		// The card as one page, rendered once a load: a version's files
		// do not change. A card showing a plot its version lacks (none
		// made by abscopal) has no page; the model serves all the same.
		if page, err := cardhtml.Render(fmt.Sprintf("Model card: %s:%s", m.Bundle.Name, m.Version), files["card.md"], files); err == nil {
			docs["card.html"] = page
		}
		set.docs[m] = docs
		set.groups[m] = groupOutputs(m.Bundle.Pipeline)
		set.aliases[m] = aliasesOf(reg, n, m.Version)
	}
	if len(errs) > 0 {
		// A model that fails to load must not pass unnoticed, nor silently
		// replace a good one: the reload fails and the current set stays.
		return nil, errors.Join(errs...)
	}
	if len(set.byName) == 0 {
		return nil, fmt.Errorf("registry %s holds no models", reg.Dir)
	}
	for _, builtin := range []bool{true, false} {
		for _, n := range names {
			m := set.byName[n]
			spec := m.Bundle.Pipeline.Spec
			t := m.Bundle.Target
			if _, taken := set.byTarget[t]; !taken && servesV1(spec) && spec.Builtin == builtin && readsCohortOnly(spec) {
				set.byTarget[t] = m
			}
		}
	}
	var answering []string
	for _, t := range v1Targets {
		if m, ok := set.byTarget[t]; ok {
			answering = append(answering, m.Bundle.Name+":"+m.Version)
		}
	}
	set.v1Models = strings.Join(answering, " ")
	return set, nil
}

// v1Targets are the outcomes /v1 answers, in the order the log names their
// models: the two responses, and the toxicity a choice of regimen weighs
// against them.
var v1Targets = [...]string{"abscopal_response", "objective_response", "pneumonitis_grade"}

// servesV1 reports whether a model of spec's target can answer for it on
// /v1: a response, or pneumonitis from some grade on (any grade, which
// "positive: 1" would count alone, is not a toxicity a clinician weighs).
func servesV1(spec *features.Spec) bool {
	switch spec.Target.Column {
	case "abscopal_response", "objective_response":
		return true
	case "pneumonitis_grade":
		return spec.Target.AtLeast != nil
	}
	return false
}

// readsCohortOnly reports whether every column spec reads is a field of the
// cohort schema, as /v1 patients are.
func readsCohortOnly(spec *features.Spec) bool {
	if spec.Builtin {
		return true
	}
	for _, c := range spec.Columns() {
		if _, ok := data.CohortField(c); !ok {
			return false
		}
	}
	return true
}

func (s *modelSet) sorted() []*models.Model {
	out := make([]*models.Model, 0, len(s.byName))
	for _, m := range s.byName {
		out = append(out, m)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Bundle.Name < out[b].Bundle.Name })
	return out
}

// fingerprint summarizes the registry's versions and aliases; it changes
// when a version is published or an alias moves.
func fingerprint(reg *models.Registry) string {
	var b strings.Builder
	names, _ := reg.Names()
	for _, n := range names {
		versions, _ := reg.Versions(n)
		fmt.Fprintf(&b, "%s:%s;", n, strings.Join(versions, ","))
		aliases, _ := reg.Aliases(n)
		keys := make([]string, 0, len(aliases))
		for a := range aliases {
			keys = append(keys, a)
		}
		sort.Strings(keys)
		for _, a := range keys {
			st, _ := os.Stat(filepath.Join(reg.Dir, n, "aliases", a))
			var mt int64
			if st != nil {
				mt = st.ModTime().UnixNano()
			}
			fmt.Fprintf(&b, "@%s=%s/%d;", a, aliases[a], mt)
		}
	}
	return b.String()
}

// modelAlias is an alias that points at a served version, and since when
// (absent when the registry's alias history does not say: a move made
// before it was kept).
type modelAlias struct {
	Alias string     `json:"alias"`
	Since *time.Time `json:"since,omitempty"`
}

// aliasesOf lists the aliases of model name that point at version, each
// with the time of the move that made it so. The history is a record, not
// a condition of serving: one that cannot be read leaves the times out.
func aliasesOf(reg *models.Registry, name, version string) []modelAlias {
	aliases, err := reg.Aliases(name)
	if err != nil {
		return nil
	}
	history, _ := reg.AliasHistory(name)
	var out []modelAlias
	for _, a := range slices.Sorted(maps.Keys(aliases)) {
		if aliases[a] != version {
			continue
		}
		// Since the first of the latest moves to this version: moving it
		// again to where it points changes nothing.
		ma := modelAlias{Alias: a}
		for _, c := range slices.Backward(history) {
			if c.Alias != a {
				continue
			}
			if c.Version != version {
				break
			}
			t := c.Time
			ma.Since = &t
		}
		out = append(out, ma)
	}
	return out
}

// require reports the names of names that the set does not serve.
func (set *modelSet) require(names []string) error {
	var missing []string
	for _, name := range names {
		if set.byName[name] == nil {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: the registry has no model %s (required by --require-models)", ErrMissingModel, strings.Join(missing, ", "))
	}
	return nil
}
