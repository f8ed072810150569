// Package api serves abscopal's models over HTTP with Gin: the v1 API
// (predict, regimen comparison, models, schema), the Open Inference
// Protocol v2 (KServe, Triton, MLServer), health, Prometheus metrics and the
// OpenAPI document.
//
// A Server is a value: construct it with New and a Config, mount Handler,
// or run it with ListenAndServe. Models come from a registry and are
// swapped atomically by Reload, which "abscopal serve" calls on SIGHUP and
// when the registry changes on disk.
package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/abscopal/abscopal/cdshooks"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/web"
	"github.com/gin-gonic/gin"
)

// Config configures a Server.
type Config struct {
	// Registry is the registry's directory, or its object store's URL
	// when Store is set.
	Registry string
	// Store, when set, holds the registry (s3store opens one): replicas
	// on many machines then serve one registry.
	Store models.ObjectStore
	// Require names models that must be served: while one is not, the
	// server is not ready (/readyz 503). A required model that a reload
	// finds missing or broken keeps being served as it was, so that a model
	// deleted or damaged by mistake is not dropped from service.
	Require []string
	// V1Models names, by v1 target (abscopal_response, objective_response,
	// pneumonitis_grade), the model that answers it; "" serves none. A
	// target not named is answered by its only model, else by the only one
	// of its models with a production alias; more than that is ambiguous,
	// which New refuses.
	V1Models map[string]string
	// Tokens, when not empty, are the bearer tokens accepted on /v1 and /v2;
	// SetTokens replaces them.
	Tokens []Token
	// MaxBodyBytes bounds a request body (default 1 MiB); larger is 413.
	MaxBodyBytes int64
	// MaxBatch bounds the patients of one predict request (default 1000).
	MaxBatch int
	// MaxUploadBytes bounds a file sent to /v1/score (default 16 MiB,
	// about 150,000 patients as CSV); larger is 413.
	MaxUploadBytes int64
	// UI serves the what-if calculator (package web) at /: a page that
	// calls this server's /v1 API like any client.
	UI bool
	// Timeouts of the HTTP server (defaults 10 s, 30 s, 120 s).
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// ShutdownTimeout bounds the wait for in-flight requests (default 20 s).
	ShutdownTimeout time.Duration
	// WatchInterval is how often the registry is checked for changes
	// (default 2 s; negative: never).
	WatchInterval time.Duration
	// TLSCertFile and TLSKeyFile, both or neither, are a PEM certificate
	// (with its chain) and its private key: the server then speaks HTTPS
	// only, TLS 1.2 or later. ReloadCertificate reads them again, so that a
	// renewed certificate is served without a restart.
	TLSCertFile, TLSKeyFile string
	// TLSClientCAFile, with TLS, is a PEM bundle of the authorities whose
	// client certificates /v1 and /v2 require (mutual TLS); the request log
	// names the client by its certificate's common name unless its token
	// names it. ReloadCertificate reads it again too. Health and metrics
	// stay open to probes without a certificate.
	TLSClientCAFile string
	// RateLimit, when positive, bounds each client's requests on /v1 and
	// /v2 per second (a named client by its name, any other by its peer
	// address), RateBurst (default: RateLimit rounded up) of them at once;
	// over it: 429 with Retry-After.
	RateLimit float64
	RateBurst int
	// MetricsApart takes /metrics off the API's listener: ServeMetrics
	// serves it on one of its own, which a firewall or a loopback address
	// keeps from the API's clients (the metrics name the clients and the
	// models).
	MetricsApart bool
	// MetricsPublic keeps /metrics on the API's listener when bearer
	// tokens are required; without it /metrics is then served apart only
	// (MetricsApart), as it names the clients.
	MetricsPublic bool
	// CDSIssuers, when set, are the EHRs trusted to call the CDS Hooks
	// services: each call must bear a JSON Web Token one of them signed
	// (cdshooks.Verifier). Without them the services take the bearer
	// tokens and client certificates /v1 takes.
	CDSIssuers []cdshooks.Issuer
	// CDSAllowHTTP lets a CDS Hooks call name an http:// FHIR server (a
	// sandbox on the same host); otherwise only https is fetched from.
	CDSAllowHTTP bool
	// CDSFHIRServers, when set, are the only FHIR servers (base URLs) the
	// CDS Hooks services fetch a chart from (cdshooks.Fetcher.Servers).
	CDSFHIRServers []string
	// FHIRClient fetches from EHRs' FHIR servers and issuers' JWKS (nil: a
	// client with a 10-second timeout).
	FHIRClient *http.Client
	// PublicURL is the base URL clients call the server by, behind a proxy
	// (the aud of a CDS Hooks token, the cards' links); default: the
	// request's scheme and host.
	PublicURL string
	Logger    *slog.Logger
}

// Server serves predictions.
type Server struct {
	cfg Config
	log *slog.Logger
	set atomic.Pointer[modelSet]
	// outage is set while the registry cannot be read (a store that is
	// down): the models loaded before keep serving, and /readyz says so.
	outage  atomic.Pointer[registryOutage]
	metrics *metrics
	engine  *gin.Engine
	spec    []byte    // the OpenAPI document
	scratch sync.Pool // *models.Scratch, reused across predictions
	cert    atomic.Pointer[tls.Certificate]
	clients atomic.Pointer[x509.CertPool] // client certificate authorities; nil: none required
	tokens  atomic.Pointer[[]secret]      // nil or empty: no auth
	limiter *rateLimiter                  // nil: no rate limit
	page    *web.Page                     // the calculator; nil: Config.UI is off
	cds     *cdshooks.Verifier            // nil: no CDS Hooks issuers configured
}

// ErrMissingModel is wrapped by Reload's error when the registry lacks a
// model of Config.Require.
var ErrMissingModel = errors.New("a required model is missing")

// ErrNoRegistry is wrapped by New's error when the registry directory does
// not exist or is not a directory.
var ErrNoRegistry = errors.New("no registry directory")

// New loads the registry's models and builds the server. A registry that
// cannot be read is an error; one without models gives a server that is
// live but not ready.
func New(cfg Config) (*Server, error) {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.MaxUploadBytes <= 0 {
		cfg.MaxUploadBytes = 16 << 20
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 1000
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = 10 * time.Second
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 30 * time.Second
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 120 * time.Second
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 20 * time.Second
	}
	if cfg.WatchInterval == 0 {
		cfg.WatchInterval = 2 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}

	if (cfg.TLSCertFile == "") != (cfg.TLSKeyFile == "") {
		return nil, errors.New("api: TLS needs both a certificate and its key")
	}
	if cfg.TLSClientCAFile != "" && cfg.TLSCertFile == "" {
		return nil, errors.New("api: client certificates need TLS: give the server's certificate and key too")
	}
	if cfg.RateLimit < 0 || math.IsNaN(cfg.RateLimit) || math.IsInf(cfg.RateLimit, 0) || cfg.RateBurst < 0 {
		return nil, fmt.Errorf("api: rate limit %g per second, burst %d: want a positive rate (0: none) and burst", cfg.RateLimit, cfg.RateBurst)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, spec: openAPISpec}
	s.metrics = newMetrics(s.set.Load, func() bool { return s.outage.Load() == nil })
	if cfg.RateLimit > 0 {
		s.limiter = newRateLimiter(cfg.RateLimit, cfg.RateBurst)
	}
	s.scratch.New = func() any { return new(models.Scratch) }
	if err := s.SetTokens(cfg.Tokens); err != nil {
		return nil, err
	}
	if len(cfg.CDSIssuers) > 0 {
		v, err := cdshooks.NewVerifier(cfg.CDSIssuers, cfg.FHIRClient)
		if err != nil {
			return nil, fmt.Errorf("api: %w", err)
		}
		s.cds = v
	}
	if err := s.ReloadCertificate(); err != nil {
		return nil, err
	}
	if cfg.Store != nil {
		// An object store was reached by whoever opened it.
	} else if fi, err := os.Stat(cfg.Registry); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("api: registry %s does not exist (abscopal train --registry %s makes one): %w", cfg.Registry, cfg.Registry, ErrNoRegistry)
	} else if err != nil {
		return nil, fmt.Errorf("api: registry %s: %w", cfg.Registry, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("api: registry %s is not a directory: %w", cfg.Registry, ErrNoRegistry)
	}
	if err := s.Reload(); err != nil {
		// Each model that failed is logged, and /readyz names it.
		if errors.Is(err, ErrNoRegistry) {
			return nil, fmt.Errorf("api: %w", err)
		}
	}
	// Which model answers /v1 is decided before the server answers
	// anything: at start, a registry where several could is refused.
	if set := s.models(); len(set.v1Problems) > 0 {
		var msgs []string
		for _, p := range set.sortedProblems() {
			if p.Target != "" {
				msgs = append(msgs, p.Reason)
			}
		}
		return nil, fmt.Errorf("api: %w: %s", ErrAmbiguousV1, strings.Join(msgs, "; "))
	}
	if cfg.UI {
		page, err := web.New(web.Options{Regimens: DefaultRegimens, Example: web.ExamplePatient()})
		if err != nil {
			return nil, fmt.Errorf("api: %w", err)
		}
		s.page = page
	}
	s.engine = s.routes()
	return s, nil
}

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler { return s.engine }

// Engine returns the Gin engine, to mount more routes before serving
// (bench/serve mounts a trivial echo handler beside /v1/predict).
func (s *Server) Engine() *gin.Engine { return s.engine }

// Reload loads the registry's models, each on its own, and swaps them in
// atomically; requests in flight finish with the models they started with.
// A model whose version fails to load is reported (/readyz, /v1/models,
// the metric abscopal_model_problem) and, if it was served, keeps being
// served as it was. The error joins every model's problem, new or not; it is
// ErrNoRegistry's when the registry cannot be read at all, and then the
// current models stay.
func (s *Server) Reload() error {
	start := time.Now()
	set, err := loadModels(s.registry(), s.set.Load(), loadOptions{require: s.cfg.Require, v1: s.cfg.V1Models, now: start.UTC().Truncate(time.Second)})
	s.metrics.loadSeconds.Observe(time.Since(start).Seconds())
	if err != nil {
		s.metrics.loadErrors.Inc()
		if s.outage.Load() == nil {
			s.outage.Store(&registryOutage{Since: start.UTC().Truncate(time.Second)})
		}
		return fmt.Errorf("registry %s: %w: %w", s.cfg.Registry, ErrNoRegistry, err)
	}
	if s.outage.Swap(nil) != nil {
		s.log.Info("registry readable again", "registry", s.cfg.Registry)
	}
	set.monitors = map[*models.Model]*monitor{}
	for _, m := range set.byName {
		set.monitors[m] = s.metrics.monitor(m)
	}
	old := s.set.Swap(set)
	if old != nil {
		for name, m := range old.byName {
			if now := set.byName[name]; now == nil || now.Version != m.Version {
				s.metrics.forget(name, m.Version)
			}
		}
	}
	var errs []error
	for _, p := range set.sortedProblems() {
		errs = append(errs, p.err)
		if prev := problemOf(old, p); prev != nil && prev.Since.Equal(p.Since) {
			continue // logged and counted when it began
		}
		s.metrics.loadErrors.Inc()
		s.log.Error("model not served as published", "model", p.Model, "target", p.Target, "state", p.state(),
			"serving_version", p.Serving, "failed_version", p.Failed, "error", p.err.Error())
	}
	for _, m := range set.sorted() {
		if old == nil || old.byName[m.Bundle.Name] != m {
			s.log.Info("model loaded", "model", m.Bundle.Name, "version", m.Version, "target", m.Bundle.Target, "algo", m.Bundle.Algo)
		}
	}
	for _, t := range v1Targets {
		if c, ok := set.v1[t]; ok && (old == nil || old.v1[t] != c) {
			s.log.Info("v1 target assigned", "target", t, "model", c.Model, "version", c.Version, "chosen_by", c.ChosenBy)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return nil
}

// registryOutage is a registry that could not be read, since when.
type registryOutage struct {
	Since time.Time `json:"since"`
}

// registry is the registry the server serves.
func (s *Server) registry() *models.Registry {
	return &models.Registry{Dir: s.cfg.Registry, Store: s.cfg.Store}
}

// problemOf returns set's problem of the same model or target as p.
func problemOf(set *modelSet, p *modelProblem) *modelProblem {
	switch {
	case set == nil:
		return nil
	case p.Target != "":
		return set.v1Problems[p.Target]
	}
	return set.problems[p.Model]
}

// ReloadCertificate reads the TLS certificate and key again and serves them
// to new connections; on error the current pair stays. Without TLS it does
// nothing.
func (s *Server) ReloadCertificate() error {
	if s.cfg.TLSCertFile == "" {
		return nil
	}
	c, err := tls.LoadX509KeyPair(s.cfg.TLSCertFile, s.cfg.TLSKeyFile)
	if err != nil {
		return fmt.Errorf("api: TLS certificate %s, key %s: %w", s.cfg.TLSCertFile, s.cfg.TLSKeyFile, err)
	}
	// Since Go 1.23 LoadX509KeyPair fills Leaf.
	if now := time.Now(); now.After(c.Leaf.NotAfter) {
		s.log.Warn("TLS certificate expired: clients will refuse it", "file", s.cfg.TLSCertFile, "not_after", c.Leaf.NotAfter)
	} else if now.Before(c.Leaf.NotBefore) {
		s.log.Warn("TLS certificate not yet valid: clients will refuse it", "file", s.cfg.TLSCertFile, "not_before", c.Leaf.NotBefore)
	}
	var pool *x509.CertPool
	if s.cfg.TLSClientCAFile != "" {
		b, err := os.ReadFile(s.cfg.TLSClientCAFile)
		if err != nil {
			return fmt.Errorf("api: client certificate authorities: %w", err)
		}
		pool = x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return fmt.Errorf("api: client certificate authorities %s: no PEM certificate in it", s.cfg.TLSClientCAFile)
		}
	}
	s.cert.Store(&c)
	if pool != nil {
		s.clients.Store(pool)
	}
	s.log.Info("TLS certificate loaded", "file", s.cfg.TLSCertFile, "subject", c.Leaf.Subject.String(), "not_after", c.Leaf.NotAfter,
		"client_cas", s.cfg.TLSClientCAFile)
	return nil
}

// clientCertName returns the common name of the client certificate that r's
// connection presented and verified against the client authorities.
func clientCertName(r *http.Request) (string, bool) {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
		return "", false
	}
	return r.TLS.VerifiedChains[0][0].Subject.CommonName, true
}

func (s *Server) models() *modelSet {
	if m := s.set.Load(); m != nil {
		return m
	}
	return &modelSet{}
}

// ListenAndServe serves on addr until ctx ends, then shuts down gracefully:
// it stops accepting connections and waits (up to ShutdownTimeout) for
// requests in flight. It watches the registry and reloads on changes.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(ctx, ln)
}

// httpServer is an http.Server of h with the configured timeouts.
func (s *Server) httpServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadTimeout:       s.cfg.ReadTimeout,
		ReadHeaderTimeout: s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

// runUntil runs serve (srv's Serve or ServeTLS) until it fails or ctx
// ends; then, after calling stopping, srv stops accepting connections and
// is given up to ShutdownTimeout to finish the requests in flight.
func (s *Server) runUntil(ctx context.Context, srv *http.Server, serve func() error, stopping func()) error {
	errc := make(chan error, 1)
	go func() { errc <- serve() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	stopping()
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Serve is ListenAndServe on a listener.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := s.httpServer(s.engine)
	if s.cfg.WatchInterval > 0 {
		go s.watch(ctx)
	}
	serve := func() error { return srv.Serve(ln) }
	if s.cert.Load() != nil {
		srv.TLSConfig = &tls.Config{
			MinVersion: tls.VersionTLS12,
			// Each handshake takes the current pair: ReloadCertificate
			// swaps it under running connections.
			GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return s.cert.Load(), nil },
		}
		if s.clients.Load() != nil {
			// And the current authorities. A certificate is verified when
			// given and required by auth on /v1 and /v2 only, so that
			// health probes need none.
			base := srv.TLSConfig
			srv.TLSConfig = base.Clone()
			srv.TLSConfig.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
				c := base.Clone()
				c.ClientAuth, c.ClientCAs = tls.VerifyClientCertIfGiven, s.clients.Load()
				return c, nil
			}
		}
		serve = func() error { return srv.ServeTLS(ln, "", "") }
	} else if s.authOn() {
		s.log.Warn("bearer tokens cross the network in clear over plain HTTP: terminate TLS in front of this server, or give it a certificate")
	}
	s.log.Info("serving", "addr", ln.Addr().String(), "tls", s.cert.Load() != nil)
	if err := s.runUntil(ctx, srv, serve, func() { s.log.Info("shutting down: finishing requests in flight") }); err != nil {
		return err
	}
	s.log.Info("stopped")
	return nil
}

// ServeMetrics serves /metrics alone, over plain HTTP, on ln until ctx
// ends (for a server made with MetricsApart); it closes ln.
func (s *Server) ServeMetrics(ctx context.Context, ln net.Listener) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metricsHandler())
	srv := s.httpServer(mux)
	s.log.Info("serving metrics", "addr", ln.Addr().String())
	if err := s.runUntil(ctx, srv, func() error { return srv.Serve(ln) }, func() {}); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}

// watch reloads when the registry's fingerprint (its versions, aliases and
// the files of the versions served) changes, and, while a model is not
// served as published, retries with a growing pause (WatchInterval,
// doubled up to maxRetryPause): a registry on a network file system may
// come back without anything on it changing. Polling needs no platform
// file-notification API and notices a network file system's changes too.
func (s *Server) watch(ctx context.Context) {
	reg := s.registry()
	last := reg.Fingerprint()
	pause := s.cfg.WatchInterval
	retryAt := time.Now().Add(pause)
	t := time.NewTicker(s.cfg.WatchInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fp := reg.Fingerprint()
		troubled := len(s.models().problems) > 0 || s.outage.Load() != nil
		switch {
		case fp != last:
			pause = s.cfg.WatchInterval
		case troubled && !time.Now().Before(retryAt):
			pause = min(2*pause, maxRetryPause)
		default:
			continue
		}
		last = fp
		retryAt = time.Now().Add(pause)
		if err := s.Reload(); err != nil && errors.Is(err, ErrNoRegistry) {
			s.log.Error("reload failed; keeping the current models", "error", err.Error())
		}
	}
}

// maxRetryPause bounds the pause between retries of a model that failed to
// load.
const maxRetryPause = 5 * time.Minute

// Token is a bearer token accepted on /v1 and /v2 and, if named, the client
// that presents it: the request log names the client (never the token), so
// that an audit can tell which application asked about which patients when.
type Token struct {
	Client string // optional; letters, digits, '.', '_' and '-'
	// Secret is the token itself, or SHA256 its SHA-256 digest: a tokens
	// file of digests gives nothing away if it is read, and abscopal
	// compares the digest of the token a request bears.
	Secret string
	SHA256 *[sha256.Size]byte
}

// secret is a Token as authorized compares it: the token itself, or its
// digest when hashed.
type secret struct {
	client string
	b      []byte
	hashed bool
}

var clientRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// CheckClientName reports a client name that the request log could not
// give plainly: it takes 1-64 letters, digits, '.', '_' and '-'.
func CheckClientName(name string) error {
	if !clientRE.MatchString(name) {
		return fmt.Errorf("client name %q (allowed: 1-64 letters, digits, '.', '_', '-')", name)
	}
	return nil
}

// SetTokens replaces the bearer tokens accepted on /v1 and /v2, for new
// requests: "abscopal serve" rereads its tokens file on SIGHUP, so that a
// token is added or revoked without a restart. An empty token is refused
// (it would accept anyone), and so is an empty list once tokens are
// required: a file emptied by mistake must not open the API. So are a
// token given twice and a client name that could not be logged plainly.
func (s *Server) SetTokens(tokens []Token) error {
	b := make([]secret, 0, len(tokens))
	seen := map[[sha256.Size]byte]bool{} // by digest: a token and its digest are the same token
	for i, t := range tokens {
		digest := sha256.Sum256([]byte(t.Secret))
		if t.SHA256 != nil {
			digest = *t.SHA256
		}
		switch {
		case t.Secret == "" && t.SHA256 == nil:
			return errors.New("api: an empty bearer token would accept anyone")
		case t.Secret != "" && t.SHA256 != nil:
			return fmt.Errorf("api: token %d is given both as itself and as a digest", i+1)
		case seen[digest]:
			return fmt.Errorf("api: token %d is given twice: each client needs its own", i+1)
		case t.Client != "":
			if err := CheckClientName(t.Client); err != nil {
				return fmt.Errorf("api: token %d: %w", i+1, err)
			}
		}
		seen[digest] = true
		if t.SHA256 != nil {
			b = append(b, secret{client: t.Client, b: digest[:], hashed: true})
		} else {
			b = append(b, secret{client: t.Client, b: []byte(t.Secret)})
		}
	}
	if len(b) == 0 && s.authOn() {
		return errors.New("api: no bearer tokens: the API requires them, and would be open to anyone")
	}
	s.tokens.Store(&b)
	return nil
}

func (s *Server) authOn() bool {
	t := s.tokens.Load()
	return t != nil && len(*t) > 0
}

// authorized compares the bearer token, or its SHA-256 digest for a token
// configured as one, with every configured token in constant time, and
// returns the name of the client whose token it is.
func (s *Server) authorized(header string) (client string, ok bool) {
	token, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || token == "" {
		return "", false
	}
	match := 0
	plain := []byte(token)
	var digest []byte // computed for the first token kept by its digest
	for _, t := range *s.tokens.Load() {
		presented := plain
		if t.hashed {
			if digest == nil {
				sum := sha256.Sum256(plain)
				digest = sum[:]
			}
			presented = digest
		}
		eq := subtle.ConstantTimeCompare(presented, t.b)
		if eq == 1 { // which token matched may show in the timing; nothing of any token does
			client = t.client
		}
		match |= eq
	}
	return client, match == 1
}
