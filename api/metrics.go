package api

import (
	"strconv"

	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/internal/buildinfo"
	"github.com/abscopal/abscopal/models"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are registered on a registry of the server's own, not the global
// one, so that servers in one process (tests) do not collide.
type metrics struct {
	reg         *prometheus.Registry
	requests    *prometheus.CounterVec
	clients     *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	predictions *prometheus.CounterVec
	// The inputs and outputs of each model, for drift: a feed that stops
	// sending a value shows as imputations rising, a shifted population as
	// the probabilities' distribution or values outside the training range.
	probability *prometheus.HistogramVec
	imputed     *prometheus.CounterVec
	unseen      *prometheus.CounterVec
	outOfRange  *prometheus.CounterVec
	loadSeconds prometheus.Histogram
	loadErrors  prometheus.Counter
	// The CDS Hooks services' cards by indicator, and what the EHRs' users
	// did with them (feedback: accepted or overridden).
	cdsCards    *prometheus.CounterVec
	cdsFeedback *prometheus.CounterVec
}

// newMetrics returns the server's metrics; current gives the models being
// served and reachable whether the registry could be read at the last
// look, which the model-state gauges read at each scrape.
func newMetrics(current func() *modelSet, reachable func() bool) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		cdsCards: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "abscopal_cds_cards_total", Help: "CDS Hooks cards answered, by service and indicator (info, warning)."},
			[]string{"service", "indicator"}),
		cdsFeedback: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "abscopal_cds_feedback_total", Help: "CDS Hooks feedback on the cards, by service and outcome (accepted, overridden)."},
			[]string{"service", "outcome"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "abscopal_http_requests_total", Help: "HTTP requests by route, method and status."},
			[]string{"route", "method", "status"}),
		clients: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "abscopal_client_requests_total", Help: "Authorized requests on /v1 and /v2 by the client named with its token (\"\" for an unnamed token)."},
			[]string{"client"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "abscopal_rate_limited_total", Help: "Requests refused with 429 for their client's rate, by client name (\"\" for a client limited by its address)."},
			[]string{"client"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "abscopal_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}},
			[]string{"route"}),
		predictions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "abscopal_predictions_total", Help: "Patients scored, by model, version and target."},
			[]string{"model", "version", "target"}),
		probability: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "abscopal_predicted_probability", Help: "Calibrated probabilities given, by model and version (deciles).",
			Buckets: prometheus.LinearBuckets(0.1, 0.1, 9)},
			[]string{"model", "version"}),
		imputed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "abscopal_imputed_inputs_total", Help: "Inputs missing from a request and imputed, by model, version and input."},
			[]string{"model", "version", "input"}),
		unseen: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "abscopal_unseen_categories_total", Help: "Categorical inputs of a level the model never saw, by model, version and input."},
			[]string{"model", "version", "input"}),
		outOfRange: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "abscopal_out_of_range_inputs_total", Help: "Numeric inputs outside the training range, by model, version and input."},
			[]string{"model", "version", "input"}),
		loadSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "abscopal_model_load_seconds", Help: "Time to load the registry's models.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 8)}),
		loadErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "abscopal_model_load_errors_total", Help: "Failures to load: of the registry as a whole (the models served stay), and of each model whose new version failed (counted once, when the failure begins)."}),
	}
	bi := buildinfo.Read()
	build := prometheus.NewGauge(prometheus.GaugeOpts{Name: "abscopal_build_info", Help: "1, labelled with the running binary's version, commit and Go version.",
		ConstLabels: prometheus.Labels{"version": bi.Version, "commit": bi.Commit, "go_version": bi.GoVersion}})
	build.Set(1)
	m.reg.MustRegister(m.requests, m.clients, m.rateLimited, m.latency, m.predictions, m.probability, m.imputed, m.unseen, m.outOfRange, m.loadSeconds, m.loadErrors,
		modelStateCollector{current: current, reachable: reachable}, m.cdsCards, m.cdsFeedback, build, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// monitor is one model's drift metrics, resolved once per load so that a
// prediction pays a map lookup per note, not a label hash.
type monitor struct {
	predictions                 prometheus.Counter
	probability                 prometheus.Observer
	imputed, unseen, outOfRange map[string]prometheus.Counter // by feature
}

func (m *metrics) monitor(model *models.Model) *monitor {
	name, version, target := model.Bundle.Name, model.Version, model.Bundle.Target
	mon := &monitor{
		predictions: m.predictions.WithLabelValues(name, version, target),
		probability: m.probability.WithLabelValues(name, version),
		imputed:     map[string]prometheus.Counter{}, unseen: map[string]prometheus.Counter{}, outOfRange: map[string]prometheus.Counter{},
	}
	_, names := model.Bundle.Pipeline.OutputGroups()
	for _, f := range names {
		mon.imputed[f] = m.imputed.WithLabelValues(name, version, f)
		mon.unseen[f] = m.unseen.WithLabelValues(name, version, f)
		mon.outOfRange[f] = m.outOfRange.WithLabelValues(name, version, f)
	}
	return mon
}

// forget drops the series of a model version no longer served, so that
// every reload to a new version does not leave the old one's behind (a
// version served again starts them afresh).
func (m *metrics) forget(name, version string) {
	l := prometheus.Labels{"model": name, "version": version}
	m.predictions.DeletePartialMatch(l)
	m.probability.DeletePartialMatch(l)
	m.imputed.DeletePartialMatch(l)
	m.unseen.DeletePartialMatch(l)
	m.outOfRange.DeletePartialMatch(l)
}

// observe counts one prediction of probability p with its notes.
func (mon *monitor) observe(p float64, n *features.Notes) {
	mon.predictions.Inc()
	mon.probability.Observe(p)
	for _, f := range n.Imputed {
		if c := mon.imputed[f]; c != nil {
			c.Inc()
		}
	}
	for _, u := range n.Unseen {
		if c := mon.unseen[u.Feature]; c != nil {
			c.Inc()
		}
	}
	for _, o := range n.OutOfRange {
		if c := mon.outOfRange[o.Feature]; c != nil {
			c.Inc()
		}
	}
}

// modelStateCollector reports the state of the models being served, read
// from the model set at each scrape rather than kept in gauges set after a
// reload: a scrape then agrees with /readyz at every moment, where gauges
// lagged the swap of the set by the time it took to reset them.
type modelStateCollector struct {
	current   func() *modelSet
	reachable func() bool
}

var (
	registryReachableDesc = prometheus.NewDesc("abscopal_registry_reachable", "1 while the registry can be read; 0 while it cannot (a store that is down), and the models loaded before are served.", nil, nil)
	modelsLoadedDesc      = prometheus.NewDesc("abscopal_models_loaded", "Models being served.", nil, nil)
	// abscopal_model_problem is the metric to alert on.
	modelProblemDesc = prometheus.NewDesc("abscopal_model_problem",
		"1 for each model not served as the registry has it (state degraded: an older version still serves; failed: none does) and each v1 target no model is chosen for (model v1:TARGET, state unassigned); /readyz says why.",
		[]string{"model", "state"}, nil)
	// abscopal_model_info carries what an operator checks after a
	// deployment or a reload; an alert belongs on a synthetic model served
	// in production.
	modelInfoDesc = prometheus.NewDesc("abscopal_model_info",
		"1 for each model served: its version, algorithm, target, whether it answers that target on /v1, and whether synthetic data trained it.",
		[]string{"model", "version", "algo", "target", "v1", "synthetic"}, nil)
)

// Describe implements prometheus.Collector.
func (c modelStateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- registryReachableDesc
	ch <- modelsLoadedDesc
	ch <- modelProblemDesc
	ch <- modelInfoDesc
}

// Collect implements prometheus.Collector.
func (c modelStateCollector) Collect(ch chan<- prometheus.Metric) {
	up := 0.0
	if c.reachable() {
		up = 1
	}
	ch <- prometheus.MustNewConstMetric(registryReachableDesc, prometheus.GaugeValue, up)
	set := c.current()
	if set == nil {
		ch <- prometheus.MustNewConstMetric(modelsLoadedDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(modelsLoadedDesc, prometheus.GaugeValue, float64(len(set.byName)))
	for _, m := range set.sorted() {
		b := m.Bundle
		v1 := set.byTarget[b.Target] == m
		ch <- prometheus.MustNewConstMetric(modelInfoDesc, prometheus.GaugeValue, 1,
			b.Name, m.Version, b.Algo, b.Target, strconv.FormatBool(v1), strconv.FormatBool(b.Synthetic()))
	}
	for _, p := range set.sortedProblems() {
		ch <- prometheus.MustNewConstMetric(modelProblemDesc, prometheus.GaugeValue, 1, p.metricName(), p.state())
	}
}
