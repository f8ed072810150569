package api

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/internal/cardhtml"
	"github.com/abscopal/abscopal/internal/parallel"
	"github.com/abscopal/abscopal/models"
)

// modelSet is the immutable set of models being served, and what keeps the
// registry's other models from being served as published.
type modelSet struct {
	byName   map[string]*models.Model // every model: its production alias, else its latest version
	byTarget map[string]*models.Model // the v1 model of each target
	// v1 says, per v1 target served, which model answers and why.
	v1 map[string]v1Choice
	// loaded holds, per model served, the stamp of the version's files
	// when they were read: a reload reads a version again only when its
	// files changed.
	loaded map[*models.Model]string
	groups map[*models.Model]*outputGroups
	// docs holds each model's card.md and plots (*.svg), read and verified
	// with its bundle at load: GET /v1/models/{name} and its files then
	// serve those of the model that answers, without reading and hashing
	// the version's files (a forest's bundle is megabytes) on every request.
	docs map[*models.Model]*modelFiles
	// aliases are the aliases that point at each model's version, with
	// since when (the registry's alias history), read at load.
	aliases map[*models.Model][]modelAlias
	// monitors are each model's prediction metrics (Server.Reload adds
	// them: they are the server's).
	monitors map[*models.Model]*monitor
	// problems are the models not served as the registry has them, by
	// name, and the v1 targets that could not be assigned, by target.
	problems   map[string]*modelProblem
	v1Problems map[string]*modelProblem
	// v1Models names the models that answer /v1 ("abscopal:v3
	// response:v1"), for the request log: made once per set, not per request.
	v1Models string
}

// modelProblem is a model of the registry that is not served as published:
// its version failed to load, so an older one is served (degraded) or none
// is (failed); or a v1 target whose model could not be chosen.
type modelProblem struct {
	Model  string `json:"model,omitempty"`
	Target string `json:"target,omitempty"` // a v1 target's problem
	// Serving is the version still served, loaded before the failure; ""
	// when none is.
	Serving string `json:"serving_version,omitempty"`
	// Failed is the version that failed to load ("" when none could be
	// resolved: an alias naming no version, say).
	Failed string    `json:"failed_version,omitempty"`
	Reason string    `json:"reason"`
	Since  time.Time `json:"since"`
	err    error     // the whole error, for the log and Reload's
}

// state names the problem for people and the metric: degraded (an older
// version serves), failed (nothing does) or, for a target, unassigned.
func (p *modelProblem) state() string {
	switch {
	case p.Target != "":
		return "unassigned"
	case p.Serving != "":
		return "degraded"
	}
	return "failed"
}

// metricName is the problem's model label: the model's name, or
// "v1:TARGET" for a target.
func (p *modelProblem) metricName() string {
	if p.Target != "" {
		return "v1:" + p.Target
	}
	return p.Model
}

// v1Choice is the model answering a v1 target, and why it is that one.
type v1Choice struct {
	Model    string `json:"model"`
	Version  string `json:"version"`
	ChosenBy string `json:"chosen_by"`
}

// The reasons a model answers a v1 target.
const (
	chosenByConfig = "configuration (--v1-model)"
	chosenByOnly   = "the only model of the target"
	chosenByAlias  = "the only model of the target with a production alias"
)

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

func newModelSet() *modelSet {
	return &modelSet{byName: map[string]*models.Model{}, byTarget: map[string]*models.Model{}, v1: map[string]v1Choice{},
		loaded: map[*models.Model]string{}, groups: map[*models.Model]*outputGroups{}, docs: map[*models.Model]*modelFiles{},
		aliases: map[*models.Model][]modelAlias{}, problems: map[string]*modelProblem{}, v1Problems: map[string]*modelProblem{}}
}

// loadOptions are what a load of the registry needs besides it.
type loadOptions struct {
	require []string          // models that must be served (Config.Require)
	v1      map[string]string // v1 target: model name, or "" for none (Config.V1Models)
	now     time.Time
}

// loadModels loads each model of the registry on its own: a model that
// fails to load is reported, and the others are served. A model that old
// served keeps being served when its new version fails (degraded); a
// version whose files are as old read them is not read again. The error
// is that of the registry itself (unreadable): then there is no set.
func loadModels(reg *models.Registry, old *modelSet, opts loadOptions) (*modelSet, error) {
	names, err := reg.Names()
	if err != nil {
		return nil, err
	}
	if old == nil {
		old = newModelSet()
	}
	set := newModelSet()
	fail := func(name, version string, err error) {
		p := &modelProblem{Model: name, Failed: version, Reason: problemReason(err), Since: opts.now, err: err}
		if prev := old.problems[name]; prev != nil && prev.Failed == p.Failed && prev.Reason == p.Reason {
			p.Since = prev.Since // the same failure, still
		}
		if m := old.byName[name]; m != nil {
			set.keep(old, m)
			p.Serving = m.Version
		}
		set.problems[name] = p
	}
	// Each model is read, checked against its MANIFEST and decoded side by
	// side (most of a cold start); the set is then built in name order.
	type read struct {
		version, stamp string
		kept           bool // the version old serves, unchanged
		m              *models.Model
		docs           *modelFiles
		err            error
	}
	reads := make([]read, len(names))
	parallel.For(context.Background(), len(names), func(i int) error {
		n, r := names[i], &reads[i]
		if _, r.version, r.err = reg.Resolve(n); r.err != nil {
			return nil
		}
		r.stamp = reg.VersionStamp(n, r.version)
		if m := old.byName[n]; m != nil && m.Version == r.version && old.loaded[m] == r.stamp && old.problems[n] == nil {
			r.kept = true
			return nil
		}
		var files map[string][]byte
		if r.m, files, r.err = reg.LoadFiles(n + ":" + r.version); r.err == nil {
			r.docs = newModelFiles(r.m, files)
		}
		return nil
	})
	for i, n := range names {
		switch r := reads[i]; {
		case r.err != nil:
			fail(n, r.version, r.err)
		case r.kept:
			m := old.byName[n]
			set.keep(old, m)
			set.aliases[m] = aliasesOf(reg, n, m.Version) // aliases move without a new version
		default:
			set.add(reg, r.m, r.docs, r.stamp)
		}
	}
	for _, n := range opts.require {
		if set.byName[n] == nil && set.problems[n] == nil {
			fail(n, "", fmt.Errorf("%w: the registry has no model %s (required by --require-models)", ErrMissingModel, n))
		}
	}
	set.assignV1(old, opts)
	return set, nil
}

// keep serves old's model m in set, as old loaded it.
func (set *modelSet) keep(old *modelSet, m *models.Model) {
	set.byName[m.Bundle.Name] = m
	set.loaded[m], set.groups[m], set.docs[m], set.aliases[m] = old.loaded[m], old.groups[m], old.docs[m], old.aliases[m]
}

// modelFiles are the documents of a version that the API serves: its
// card, its plots, and the card as one page. The page is rendered on its
// first request, once: a version's files do not change, and a cold start
// need not wait for markdown it may never serve.
type modelFiles struct {
	files map[string][]byte // card.md and the plots (*.svg)
	page  func() ([]byte, error)
}

func newModelFiles(m *models.Model, files map[string][]byte) *modelFiles {
	docs := map[string][]byte{}
	for f, b := range files {
		if f == "card.md" || strings.HasSuffix(f, ".svg") {
			docs[f] = b
		}
	}
	title := fmt.Sprintf("Model card: %s:%s", m.Bundle.Name, m.Version)
	return &modelFiles{files: docs, page: sync.OnceValues(func() ([]byte, error) {
		return cardhtml.Render(title, docs["card.md"], docs)
	})}
}

// get returns the named document. A card showing a plot its version lacks
// (none made by abscopal) has no page; the model serves all the same.
func (d *modelFiles) get(name string) ([]byte, bool) {
	if d == nil {
		return nil, false
	}
	if name == "card.html" {
		page, err := d.page()
		return page, err == nil
	}
	b, ok := d.files[name]
	return b, ok
}

// add serves m, a version just read, with its documents.
func (set *modelSet) add(reg *models.Registry, m *models.Model, docs *modelFiles, stamp string) {
	n := m.Bundle.Name
	set.byName[n] = m
	set.docs[m] = docs
	set.loaded[m] = stamp
	set.groups[m] = groupOutputs(m.Bundle.Pipeline)
	set.aliases[m] = aliasesOf(reg, n, m.Version)
}

// problemReason says why a model was not loaded, in words that name no
// file system path: /readyz answers without a token. The log has the
// whole error.
func problemReason(err error) string {
	switch {
	case errors.Is(err, ErrMissingModel):
		return "required by --require-models, and not in the registry"
	case errors.Is(err, models.ErrBadAlias):
		return "an alias file does not name a version (or is a link out of the registry)"
	case errors.Is(err, models.ErrTampered):
		return "the version's files do not match its MANIFEST"
	case errors.Is(err, models.ErrBundle):
		return "the version's bundle.json cannot be decoded"
	case errors.Is(err, models.ErrNotFound):
		return "the model's version was not found"
	}
	return "the version could not be read"
}

// assignV1 chooses the model of each v1 target: the configured one, else
// the one model that can answer it, else the one of those with a
// production alias. Several, none configured and none or several with the
// alias, is ambiguous: the target keeps old's model if that is still
// served, and a problem says why.
func (set *modelSet) assignV1(old *modelSet, opts loadOptions) {
	for _, t := range v1Targets {
		choose := func(m *models.Model, by string) {
			set.byTarget[t] = m
			set.v1[t] = v1Choice{Model: m.Bundle.Name, Version: m.Version, ChosenBy: by}
		}
		unassigned := func(reason string) {
			p := &modelProblem{Target: t, Reason: reason, Since: opts.now, err: fmt.Errorf("%w: %s", ErrAmbiguousV1, reason)}
			if prev := old.v1Problems[t]; prev != nil && prev.Reason == reason {
				p.Since = prev.Since
			}
			set.v1Problems[t] = p
			if m := old.byTarget[t]; m != nil && set.byName[m.Bundle.Name] == m {
				choose(m, old.v1[t].ChosenBy)
				p.Model, p.Serving = m.Bundle.Name, m.Version
			}
		}
		if name, ok := opts.v1[t]; ok {
			switch m := set.byName[name]; {
			case name == "":
			case m == nil:
				unassigned(fmt.Sprintf("--v1-model names %s, which is not served", name))
			case !canServeV1(m, t):
				unassigned(fmt.Sprintf("--v1-model names %s, which predicts %s from other inputs than a cohort's", name, m.Bundle.Outcome()))
			default:
				choose(m, chosenByConfig)
			}
			continue
		}
		var cands, promoted []*models.Model
		for _, n := range slices.Sorted(maps.Keys(set.byName)) {
			m := set.byName[n]
			if !canServeV1(m, t) {
				continue
			}
			cands = append(cands, m)
			if slices.ContainsFunc(set.aliases[m], func(a modelAlias) bool { return a.Alias == "production" }) {
				promoted = append(promoted, m)
			}
		}
		switch {
		case len(cands) == 1:
			choose(cands[0], chosenByOnly)
		case len(promoted) == 1:
			choose(promoted[0], chosenByAlias)
		case len(cands) > 1:
			unassigned(ambiguity(t, cands, promoted))
		}
	}
	var answering []string
	for _, t := range v1Targets {
		if m, ok := set.byTarget[t]; ok {
			answering = append(answering, m.Bundle.Name+":"+m.Version)
		}
	}
	set.v1Models = strings.Join(answering, " ")
}

// ambiguity says why no model was chosen for target, and the ways out.
func ambiguity(target string, cands, promoted []*models.Model) string {
	names := func(ms []*models.Model) string {
		out := make([]string, len(ms))
		for i, m := range ms {
			out[i] = m.Bundle.Name
		}
		return strings.Join(out, ", ")
	}
	what := fmt.Sprintf("%s could each answer %s", names(cands), target)
	if len(promoted) > 1 {
		what += fmt.Sprintf(", and %s each have a production alias", names(promoted))
	}
	return what + fmt.Sprintf(": say which with --v1-model %s=NAME (or =none), or give one alone the production alias", target)
}

// ErrAmbiguousV1 is wrapped by New's error when a v1 target could be
// answered by several models and none is chosen (Config.V1Models, or one
// alone with a production alias).
var ErrAmbiguousV1 = errors.New("which model answers /v1 is ambiguous")

// v1Targets are the outcomes /v1 answers, in the order the log names their
// models: the two responses, and the toxicity a choice of regimen weighs
// against them.
var v1Targets = [...]string{data.AbscopalResponse, data.ObjectiveResponse, data.PneumonitisGrade, targetOS, targetPFS}

// The time-to-event targets /v1 answers: a time-to-event model of the
// cohort schema's overall or progression-free survival.
const (
	targetOS  = "os"
	targetPFS = "pfs"
)

// V1Targets lists the outcomes /v1 answers, the keys of Config.V1Models.
func V1Targets() []string { return v1Targets[:] }

// canServeV1 reports whether m can answer target on /v1: it predicts it (a
// response, or pneumonitis from some grade on: any grade, which "positive:
// 1" would count alone, is not a toxicity a clinician weighs), and every
// column its spec reads is a field of the cohort schema, as /v1 patients
// give.
func canServeV1(m *models.Model, target string) bool {
	spec := m.Bundle.Pipeline.Spec
	if m.Bundle.Target != target {
		return false
	}
	switch target {
	case data.AbscopalResponse, data.ObjectiveResponse:
	case data.PneumonitisGrade:
		if spec.Target.AtLeast == nil {
			return false
		}
	case targetOS, targetPFS:
		if m.Survival == nil || spec.Target != features.TimeToEventTargets()[target] {
			return false
		}
	default:
		return false
	}
	return readsCohortOnly(spec)
}

// readsCohortOnly reports whether every column spec reads is a field of the
// cohort schema, as /v1 patients are.
func readsCohortOnly(spec *features.Spec) bool {
	if spec.ReadsPatients() {
		return true
	}
	for _, c := range spec.Columns() {
		if _, ok := data.CohortField(c); !ok {
			return false
		}
	}
	return true
}

func (set *modelSet) sorted() []*models.Model {
	out := make([]*models.Model, 0, len(set.byName))
	for _, m := range set.byName {
		out = append(out, m)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Bundle.Name < out[b].Bundle.Name })
	return out
}

// sortedProblems lists the problems, the models' by name, then the
// targets'.
func (set *modelSet) sortedProblems() []*modelProblem {
	out := []*modelProblem{}
	for _, n := range slices.Sorted(maps.Keys(set.problems)) {
		out = append(out, set.problems[n])
	}
	for _, t := range v1Targets {
		if p := set.v1Problems[t]; p != nil {
			out = append(out, p)
		}
	}
	return out
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
