package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/abscopal/abscopal/api"
	"github.com/abscopal/abscopal/cdshooks"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/sync/errgroup"
)

// serveFlags are the options of serve and demo.
type serveFlags struct {
	addr, tokensFile string
	tlsCert, tlsKey  string
	tlsClientCA      string
	maxBody          int64
	maxBatch         int
	rateLimit        float64
	rateBurst        int
	metricsAddr      string
	metricsPublic    bool
	ui               bool
	maxUpload        int64
	requireModels    []string          // serve's only
	v1Models         map[string]string // serve's only
	cdsIssuers       []string          // ISSUER=JWKS
	cdsAllowHTTP     bool
	cdsFHIRServers   []string
	publicURL        string
	watchInterval    time.Duration
}

// register adds the flags to cmd, listening on addr by default.
func (f *serveFlags) register(cmd *cobra.Command, addr string) {
	cmd.Flags().StringVar(&f.addr, "addr", addr, "listen address (:8080 for every interface)")
	cmd.Flags().StringVar(&f.tokensFile, "tokens-file", "", "file of bearer tokens required on /v1 and /v2, one per line, each optionally after its client's name, which the request log gives; a token may be given as sha256:DIGEST, its SHA-256 digest in hex, as abscopal token writes it (also: ABSCOPAL_TOKENS, the same entries comma-separated)")
	cmd.Flags().Int64Var(&f.maxBody, "max-body", 1<<20, "largest request body, bytes (larger: 413)")
	cmd.Flags().IntVar(&f.maxBatch, "max-batch", 1000, "most patients in one predict request")
	cmd.Flags().Int64Var(&f.maxUpload, "max-upload", 16<<20, "largest file of patients sent to /v1/score, bytes (larger: 413)")
	cmd.Flags().BoolVar(&f.ui, "ui", true, "serve the what-if calculator at / (a page that calls /v1 like any client); --ui=false: API only")
	cmd.Flags().Float64Var(&f.rateLimit, "rate-limit", 0, "most requests per second on /v1 and /v2 from each client (a named client by its name, others, and requests with a bad token, by address); over it: 429 with Retry-After (0: no limit)")
	cmd.Flags().IntVar(&f.rateBurst, "rate-burst", 0, "requests a client may make at once before --rate-limit paces it (default: the rate rounded up)")
	cmd.Flags().StringVar(&f.tlsCert, "tls-cert", "", "PEM certificate (with its chain): serve HTTPS only, TLS 1.2 or later; reread on SIGHUP")
	cmd.Flags().StringVar(&f.tlsKey, "tls-key", "", "PEM private key of --tls-cert")
	cmd.Flags().StringVar(&f.tlsClientCA, "tls-client-ca", "", "PEM authorities whose client certificates /v1 and /v2 then require (mutual TLS; the log names the client by the certificate); reread on SIGHUP")
	cmd.Flags().StringVar(&f.metricsAddr, "metrics-addr", "", "serve /metrics on this address instead (plain HTTP, e.g. 127.0.0.1:9090), out of the API clients' reach: the metrics name the clients and the models")
	cmd.Flags().BoolVar(&f.metricsPublic, "metrics-public", false, "with bearer tokens, serve /metrics on the API's address too (without --metrics-addr it is then not served: it names the clients)")
	cmd.Flags().StringArrayVar(&f.cdsIssuers, "cds-issuer", nil, "ISSUER=JWKS: an EHR trusted to call the CDS Hooks services, its tokens' iss and its JSON Web Key Set (an https URL or a file); repeat for several. With any, each call must bear the EHR's signed JSON Web Token (docs/fhir.md); without, the services take --tokens-file's tokens")
	cmd.Flags().BoolVar(&f.cdsAllowHTTP, "cds-allow-http", false, "let a CDS Hooks call name an http:// fhirServer (a sandbox on this host); otherwise only https is fetched from, as the access token and the chart would cross the network in clear")
	cmd.Flags().StringArrayVar(&f.cdsFHIRServers, "cds-fhir-server", nil, "a FHIR server base URL the CDS Hooks services may fetch a chart from (repeat for several); without any, every https server a call names, which lets a caller make this server send requests: set it in production")
	cmd.Flags().DurationVar(&f.watchInterval, "watch-interval", 2*time.Second, "how often the registry is checked for a new version or a moved alias (a directory's listing, or an S3 bucket's: one LIST request each time), from 100ms to 1h")
	cmd.Flags().StringVar(&f.publicURL, "public-url", "", "the base URL clients call this server by, behind a proxy (https://abscopal.hospital.org): a CDS Hooks token's aud and the cards' links; default: each request's scheme and host")
}

// issuers reads --cds-issuer's ISSUER=JWKS pairs.
func (f *serveFlags) issuers() ([]cdshooks.Issuer, error) {
	var out []cdshooks.Issuer
	for _, v := range f.cdsIssuers {
		// The first '=': a JWKS URL may hold one in its query.
		i := strings.Index(v, "=")
		if i <= 0 || i == len(v)-1 {
			return nil, usageError{fmt.Errorf("--cds-issuer %q: want ISSUER=JWKS (an https URL or a file)", v)}
		}
		out = append(out, cdshooks.Issuer{Issuer: v[:i], JWKS: v[i+1:]})
	}
	return out, nil
}

// tokens reads the bearer tokens: the file's non-empty, non-comment lines,
// and ABSCOPAL_TOKENS's comma-separated entries, each a token or a client's
// name and its token ("ehr-prod 3f9c...").
func (f *serveFlags) tokens() ([]api.Token, error) {
	var out []api.Token
	if f.tokensFile != "" {
		fh, err := os.Open(f.tokensFile)
		if err != nil {
			return nil, fmt.Errorf("--tokens-file: %w", err)
		}
		defer fh.Close()
		sc := bufio.NewScanner(fh)
		for line := 1; sc.Scan(); line++ {
			t := strings.TrimSpace(sc.Text())
			if t == "" || strings.HasPrefix(t, "#") {
				continue
			}
			tok, err := parseToken(t)
			if err != nil {
				return nil, fmt.Errorf("--tokens-file %s: line %d: %w", f.tokensFile, line, err)
			}
			out = append(out, tok)
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("--tokens-file: %w", err)
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("--tokens-file %s holds no token", f.tokensFile)
		}
	}
	for i, t := range strings.Split(os.Getenv("ABSCOPAL_TOKENS"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			tok, err := parseToken(t)
			if err != nil {
				return nil, fmt.Errorf("ABSCOPAL_TOKENS: entry %d: %w", i+1, err)
			}
			out = append(out, tok)
		}
	}
	return out, nil
}

// listen opens --addr. serve and demo open it before any other work, so that
// a port in use is reported at once, not after the demo has trained.
func (f *serveFlags) listen() (net.Listener, error) {
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return nil, fmt.Errorf("--addr %s: %w", f.addr, err)
	}
	return ln, nil
}

// serve runs the API on ln until ctx ends, reloading the registry on SIGHUP.
// It closes ln.
func (f *serveFlags) serve(ctx context.Context, ln net.Listener, registry string, stderr io.Writer) error {
	tokens, err := f.tokens()
	if err != nil {
		ln.Close()
		return usageError{err}
	}
	issuers, err := f.issuers()
	if err != nil {
		ln.Close()
		return err
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		ln.Close()
		return usageError{errors.New("--tls-cert and --tls-key go together")}
	}
	switch {
	case !(f.rateLimit >= 0) || math.IsInf(f.rateLimit, 1):
		ln.Close()
		return usageError{fmt.Errorf("--rate-limit %g: want requests per second, 0 for no limit", f.rateLimit)}
	case f.rateBurst < 0 || f.rateBurst > 0 && f.rateLimit == 0:
		ln.Close()
		return usageError{fmt.Errorf("--rate-burst %d: want a positive number of requests, with --rate-limit", f.rateBurst)}
	}
	if f.watchInterval < 100*time.Millisecond || f.watchInterval > time.Hour {
		ln.Close()
		return usageError{fmt.Errorf("--watch-interval %s: want 100ms to 1h", f.watchInterval)}
	}
	if f.tlsClientCA != "" && f.tlsCert == "" {
		ln.Close()
		return usageError{errors.New("--tls-client-ca needs --tls-cert and --tls-key: client certificates are checked over TLS")}
	}
	var mln net.Listener
	if f.metricsAddr != "" {
		if mln, err = net.Listen("tcp", f.metricsAddr); err != nil {
			ln.Close()
			return fmt.Errorf("--metrics-addr %s: %w", f.metricsAddr, err)
		}
	}
	reg, err := openRegistry(ctx, registry)
	if err != nil {
		ln.Close()
		if mln != nil {
			mln.Close()
		}
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	srv, err := api.New(api.Config{Registry: registry, Store: reg.Store, Tokens: tokens, CDSIssuers: issuers, CDSAllowHTTP: f.cdsAllowHTTP, CDSFHIRServers: f.cdsFHIRServers, PublicURL: f.publicURL, MaxBodyBytes: f.maxBody, MaxBatch: f.maxBatch, MaxUploadBytes: f.maxUpload, UI: f.ui,
		TLSCertFile: f.tlsCert, TLSKeyFile: f.tlsKey, TLSClientCAFile: f.tlsClientCA, RateLimit: f.rateLimit, RateBurst: f.rateBurst,
		WatchInterval: f.watchInterval, MetricsApart: mln != nil, MetricsPublic: f.metricsPublic, Require: f.requireModels, V1Models: f.v1Models, Logger: log})
	if err != nil {
		ln.Close()
		if mln != nil {
			mln.Close()
		}
		return err
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				f.reload(srv, log)
			}
		}
	}()
	if mln == nil {
		return srv.Serve(ctx, ln)
	}
	// Either server failing stops the other.
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return srv.Serve(gctx, ln) })
	g.Go(func() error { return srv.ServeMetrics(gctx, mln) })
	return g.Wait()
}

// reload is SIGHUP's work: the registry, the tokens file and the TLS pair
// are read again; whatever fails to load is logged and left as it was.
func (f *serveFlags) reload(srv *api.Server, log *slog.Logger) {
	if err := srv.Reload(); err != nil {
		log.Error("reload on SIGHUP failed; keeping the current models", "error", err.Error())
	}
	if f.tokensFile != "" {
		tokens, err := f.tokens()
		if err == nil {
			err = srv.SetTokens(tokens)
		}
		if err != nil {
			log.Error("tokens not reloaded on SIGHUP; keeping the current ones", "error", err.Error())
		} else {
			log.Info("tokens reloaded", "tokens", len(tokens))
		}
	}
	if err := srv.ReloadCertificate(); err != nil {
		log.Error("TLS certificate not reloaded on SIGHUP; keeping the current one", "error", err.Error())
	}
}

func newServeCmd() *cobra.Command {
	var f serveFlags
	var registry string
	cmd := &cobra.Command{
		Use:   "serve --registry DIR [--addr :8080]",
		Short: "Serve the registry's models over HTTP (v1 API, Open Inference Protocol v2)",
		Long: `serve answers predictions for every model of the registry: POST /v1/predict,
POST /v1/regimens/compare, GET /v1/models, /v1/models/{name}, /v1/schema, the Open
Inference Protocol v2 under /v2, /healthz, /readyz, /metrics (Prometheus; with
--metrics-addr on that address instead) and /openapi.json. Logs are JSON lines
on stderr, without request bodies.

A model serves its target (abscopal_response, objective_response) through its
"production" alias, else its latest version. The registry is reloaded on SIGHUP
and when it changes on disk; the swap is atomic. SIGHUP also rereads the tokens
file and the TLS certificate, so that a token is revoked or a certificate
renewed without a restart. SIGTERM or Ctrl-C stops accepting connections and
finishes the requests in flight.

With --tls-cert and --tls-key the server speaks HTTPS only (TLS 1.2 or later);
with --tls-client-ca too, /v1 and /v2 require a client certificate that one of
those authorities issued (mutual TLS), with or without tokens. Without TLS,
put a TLS-terminating proxy in front of it wherever tokens or patient data
cross a network.

Every flag may be set by an environment variable instead, ABSCOPAL_ and its
name in capitals (ABSCOPAL_REGISTRY, ABSCOPAL_RATE_LIMIT, ABSCOPAL_TLS_CERT);
a flag given on the command line wins.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fromEnv, err := flagsFromEnv(cmd.Flags())
			if err != nil {
				return err
			}
			if registry == "" {
				return usageError{errors.New("--registry is required (or ABSCOPAL_REGISTRY)")}
			}
			if slices.Contains(f.requireModels, "") {
				return usageError{fmt.Errorf("--require-models %q: an empty name", strings.Join(f.requireModels, ","))}
			}
			for target, name := range f.v1Models {
				if !slices.Contains(api.V1Targets(), target) {
					return usageError{fmt.Errorf("--v1-model %s=%s: %s is not a /v1 target (%s)", target, name, target, strings.Join(api.V1Targets(), ", "))}
				}
				if name == "none" {
					f.v1Models[target] = "" // no model answers it
				}
			}
			if len(fromEnv) > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "serve: from the environment: %s\n", strings.Join(fromEnv, ", "))
			}
			ln, err := f.listen()
			if err != nil {
				return err
			}
			return f.serve(cmd.Context(), ln, registry, cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVar(&registry, "registry", "", registryFlagHelp)
	cmd.Flags().StringSliceVar(&f.requireModels, "require-models", nil, "models that must be served (names, comma-separated): while one is not, /readyz answers 503; one a reload finds missing or broken keeps being served as it was")
	cmd.Flags().StringToStringVar(&f.v1Models, "v1-model", nil, "the model that answers a /v1 target, TARGET=NAME (abscopal_response, objective_response, pneumonitis_grade; NAME none: no model); without it a target's only model answers, else its only one with a production alias, else serve refuses to start")
	f.register(cmd, ":8080")
	return cmd
}

// envPrefix begins the environment variables that stand in for serve's
// flags, ABSCOPAL_ and the flag's name in capitals with underscores
// (ABSCOPAL_RATE_LIMIT for --rate-limit): a container or a unit file sets
// them where a command line is awkward to change.
const envPrefix = "ABSCOPAL_"

// flagsFromEnv sets each flag of fs not given on the command line from its
// environment variable, when that is set: a flag given wins. It returns the
// variables it used (their names: a value may be a path worth keeping out
// of logs). A value the flag refuses is a usage error naming the variable.
func flagsFromEnv(fs *pflag.FlagSet) ([]string, error) {
	var (
		used []string
		err  error
	)
	fs.VisitAll(func(fl *pflag.Flag) {
		if err != nil || fl.Changed || fl.Name == "help" {
			return
		}
		name := envPrefix + strings.ToUpper(strings.ReplaceAll(fl.Name, "-", "_"))
		v, ok := os.LookupEnv(name)
		if !ok {
			return
		}
		if e := fs.Set(fl.Name, v); e != nil {
			err = usageError{fmt.Errorf("%s (--%s): %w", name, fl.Name, e)}
			return
		}
		used = append(used, name)
	})
	return used, err
}

// parseToken reads "TOKEN" or "NAME TOKEN", where TOKEN may be
// "sha256:" and the token's SHA-256 digest in hex (abscopal token writes
// such entries). The error never holds the entry: it is a secret.
func parseToken(entry string) (api.Token, error) {
	var t api.Token
	switch fields := strings.Fields(entry); len(fields) {
	case 1:
		t.Secret = fields[0]
	case 2:
		t.Client, t.Secret = fields[0], fields[1]
	default:
		return api.Token{}, fmt.Errorf("%d fields (allowed: a token, or a client name and its token)", len(fields))
	}
	if hexDigest, ok := strings.CutPrefix(t.Secret, tokenDigestPrefix); ok {
		b, err := hex.DecodeString(hexDigest)
		if err != nil || len(b) != sha256.Size {
			return api.Token{}, fmt.Errorf("a %s entry takes 64 hexadecimal digits, the token's SHA-256 digest (abscopal token writes one)", tokenDigestPrefix)
		}
		t.Secret, t.SHA256 = "", (*[sha256.Size]byte)(b)
	}
	return t, nil
}

// tokenDigestPrefix marks a token given by its SHA-256 digest.
const tokenDigestPrefix = "sha256:"
