package api

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are registered on a registry of the server's own, not the global
// one, so that servers in one process (tests) do not collide.
type metrics struct {
	reg         *prometheus.Registry
	requests    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	predictions *prometheus.CounterVec
	loadSeconds prometheus.Histogram
	loadErrors  prometheus.Counter
	loaded      prometheus.Gauge
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "abscopal_http_requests_total", Help: "HTTP requests by route, method and status."},
			[]string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "abscopal_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}},
			[]string{"route"}),
		predictions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "abscopal_predictions_total", Help: "Patients scored, by model, version and target."},
			[]string{"model", "version", "target"}),
		loadSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "abscopal_model_load_seconds", Help: "Time to load the registry's models.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 8)}),
		loadErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "abscopal_model_load_errors_total", Help: "Failed loads of the registry (the previous models stay)."}),
		loaded: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "abscopal_models_loaded", Help: "Models being served."}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.predictions, m.loadSeconds, m.loadErrors, m.loaded,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
