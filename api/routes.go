package api

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metricsHandler serves the Prometheus metrics.
func (s *Server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})
}

func (s *Server) routes() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.Use(s.requestID, noStore, s.observe, s.recover, s.limitBody)
	r.NoRoute(func(c *gin.Context) { notFound(c, "route "+c.Request.URL.Path) })
	r.NoMethod(func(c *gin.Context) {
		abort(c, http.StatusMethodNotAllowed, apiError{Code: "method_not_allowed", Message: c.Request.Method + " is not allowed on " + c.Request.URL.Path})
	})

	// Probes answer without a token (a kubelet or a load balancer has
	// none) and to HEAD as to GET.
	healthz := func(c *gin.Context) { c.PureJSON(http.StatusOK, gin.H{"status": "ok"}) }
	probe(r, "/healthz", healthz)
	probe(r, "/readyz", s.readyz)
	probe(r, "/v2/health/live", func(c *gin.Context) { c.PureJSON(http.StatusOK, gin.H{"live": true}) })
	probe(r, "/v2/health/ready", s.v2Ready)
	if !s.cfg.MetricsApart {
		r.GET("/metrics", s.metricsOnAPI)
	}
	r.GET("/openapi.json", func(c *gin.Context) { c.Data(http.StatusOK, "application/json", s.spec) })

	v1 := r.Group("/v1", s.auth, s.rateLimit)
	v1.POST("/predict", s.predictJSONOrFHIR)
	v1.POST("/regimens/compare", contentTypeJSON, s.compareRegimens)
	v1.GET("/models", s.listModels)
	v1.GET("/models/:name", s.showModel)
	v1.GET("/models/:name/files/:file", s.modelFile)
	v1.GET("/schema", s.schema)
	v1.POST("/score", s.scoreFile)

	if s.page != nil {
		// The calculator is public like any page; what it shows comes from
		// /v1, which asks for the token.
		page := gin.WrapH(s.page)
		r.GET("/", page)
		r.GET("/ui/:file", page)
	}

	// FHIR R4 (docs/fhir.md): a chart in, RiskAssessments out.
	fh := r.Group("/fhir/r4", s.auth, s.rateLimit)
	fh.POST("/$predict", contentTypeFHIR, s.fhirPredict)
	fh.POST("/$compare-regimens", contentTypeFHIR, s.fhirCompareRegimens)

	// CDS Hooks 2.0: discovery is open (no patient data); the services
	// take the EHR's JSON Web Token (cdsAuth).
	r.GET("/cds-services", s.cdsDiscovery)
	cds := r.Group("/cds-services", s.cdsAuth, s.rateLimit)
	cds.POST("/:id", contentTypeJSON, s.cdsService)
	cds.POST("/:id/feedback", contentTypeJSON, s.cdsFeedback)

	v2 := r.Group("/v2", s.auth, s.rateLimit)
	v2.GET("", s.v2Server)
	v2.GET("/models/:name", s.v2Model)
	v2.GET("/models/:name/ready", s.v2ModelReady)
	v2.POST("/models/:name/infer", contentTypeJSON, s.v2Infer)
	v2.GET("/models/:name/versions/:version", s.v2Model)
	v2.GET("/models/:name/versions/:version/ready", s.v2ModelReady)
	v2.POST("/models/:name/versions/:version/infer", contentTypeJSON, s.v2Infer)
	return r
}

// probe mounts a health endpoint for GET and HEAD.
func probe(r *gin.Engine, path string, h gin.HandlerFunc) {
	r.GET(path, h)
	r.HEAD(path, h)
}

// metricsOnAPI serves /metrics on the API's own address, unless bearer
// tokens are on and the operator did not say otherwise
// (Config.MetricsPublic): the metrics name the clients, which is for the
// operator to see, not for every client that can reach the API. Tokens may
// come on after the start (SetTokens), so it is decided per request.
func (s *Server) metricsOnAPI(c *gin.Context) {
	if s.authOn() && !s.cfg.MetricsPublic {
		abort(c, http.StatusNotFound, apiError{Code: codeNotFound,
			Message: "/metrics is not served on the API's address while bearer tokens are required (it names the clients): use --metrics-addr, or --metrics-public to serve it here"})
		return
	}
	s.metricsHandler().ServeHTTP(c.Writer, c.Request)
}

// noStore asks every cache between the server and its client (a proxy, a
// browser) to keep nothing: answers hold patient identifiers and
// predictions. nosniff keeps a browser from reading a JSON answer as
// anything else.
func noStore(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	c.Next()
}

var requestIDRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// requestID keeps a caller's X-Request-ID when it is a plain token, or makes one.
func (s *Server) requestID(c *gin.Context) {
	id := c.GetHeader("X-Request-ID")
	if !requestIDRE.MatchString(id) {
		var b [8]byte
		rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	c.Set("request_id", id)
	c.Header("X-Request-ID", id)
	c.Next()
}

// observe logs each request (never its body: it holds patient data) and
// records its metrics, by route template rather than raw path so that model
// names in URLs cannot explode the metric's cardinality.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	status := c.Writer.Status()
	d := time.Since(start)
	s.metrics.requests.WithLabelValues(route, c.Request.Method, strconv.Itoa(status)).Inc()
	s.metrics.latency.WithLabelValues(route).Observe(d.Seconds())
	// Typed attributes (LogAttrs) rather than key-value pairs: no boxing,
	// on a line written for every request.
	var buf [8]slog.Attr
	attrs := append(buf[:0], slog.String("request_id", c.GetString("request_id")), slog.String("method", c.Request.Method),
		slog.String("route", route), slog.Int("status", status), slog.Float64("latency_ms", float64(d.Microseconds())/1000),
		slog.Int("bytes", c.Writer.Size()))
	if m := c.GetString(logModels); m != "" {
		attrs = append(attrs, slog.String("models", m)) // which versions answered: traceable after a reload
	}
	if cl := c.GetString(logClient); cl != "" {
		attrs = append(attrs, slog.String("client", cl)) // who asked, for an audit
	}
	s.log.LogAttrs(c.Request.Context(), slog.LevelInfo, "request", attrs...)
}

// logModels is the context key under which a handler that scored patients
// names the model versions that did, for the request log; logClient the
// one under which auth names the client whose token was presented.
const (
	logModels = "models"
	logClient = "client"
)

// recover turns a panic into a 500 that says nothing about internals; the
// log has the detail, under the request id.
func (s *Server) recover(c *gin.Context) {
	defer func() {
		if p := recover(); p != nil {
			if err, ok := p.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(p)
			}
			s.log.Error("panic", "request_id", c.GetString("request_id"), "route", c.FullPath(), "panic", p)
			abort(c, http.StatusInternalServerError, apiError{Code: codeInternal,
				Message: "internal error; quote request id " + c.GetString("request_id")})
		}
	}()
	c.Next()
}

func (s *Server) limitBody(c *gin.Context) {
	if c.Request.Body != nil {
		limit := s.cfg.MaxBodyBytes
		if c.FullPath() == scoreRoute {
			limit = s.cfg.MaxUploadBytes // a file of patients, not one JSON request
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	}
	c.Next()
}

func (s *Server) auth(c *gin.Context) {
	mutual := s.clients.Load() != nil
	if !s.authOn() && !mutual {
		c.Next()
		return
	}
	var client string
	if mutual {
		name, ok := clientCertName(c.Request)
		if !ok {
			s.refuse(c, "a client certificate from an accepted authority is required")
			return
		}
		client = name
	}
	if s.authOn() {
		name, ok := s.authorized(c.GetHeader("Authorization"))
		if !ok {
			c.Header("WWW-Authenticate", `Bearer realm="abscopal"`)
			s.refuse(c, "a valid bearer token is required")
			return
		}
		if name != "" {
			client = name // the tokens file's name before the certificate's
		}
	}
	if client != "" {
		c.Set(logClient, client)
	}
	// The label's values are the tokens file's names or the certificates'
	// that the authorities issued: bounded.
	s.metrics.clients.WithLabelValues(client).Inc()
	c.Next()
}

// ready reports whether the server can answer as configured: some model
// is served, and every model of Config.Require is; if not, why.
func (s *Server) ready(set *modelSet) (bool, string) {
	if len(set.byName) == 0 {
		return false, "no models loaded (the log and problems say why)"
	}
	var missing []string
	for _, n := range s.cfg.Require {
		if set.byName[n] == nil {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return false, "a required model is missing: " + strings.Join(missing, ", ") + " (--require-models) is not served"
	}
	return true, ""
}

// readyz answers 200 while the server can answer as configured, "ready",
// or "degraded" when a model is not served as the registry has it (an
// older version serves, or none does) or a v1 target has no model: it
// serves still, and an operator must act. 503, "not ready", otherwise. It
// names the models answering /v1 and each problem.
func (s *Server) readyz(c *gin.Context) {
	set := s.models()
	body := gin.H{"models": len(set.byName), "v1": set.v1, "problems": set.sortedProblems()}
	ok, reason := s.ready(set)
	if o := s.outage.Load(); o != nil {
		body["registry"] = gin.H{"status": "unreachable", "since": o.Since, "reason": "the registry cannot be read; the models loaded before it went away are served (the server's log says why)"}
	}
	switch {
	case !ok:
		body["status"], body["reason"] = "not ready", reason
		c.PureJSON(http.StatusServiceUnavailable, body)
		return
	case len(set.problems) > 0 || len(set.v1Problems) > 0:
		body["status"] = "degraded"
	case s.outage.Load() != nil:
		// The models loaded before serve on; what changed in the
		// registry since is not seen until it can be read again.
		body["status"] = "degraded"
	default:
		body["status"] = "ready"
	}
	c.PureJSON(http.StatusOK, body)
}
