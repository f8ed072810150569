// Command serve starts abscopal's API for load tests: it trains the two
// models on a synthetic cohort into a temporary registry, mounts a trivial
// JSON echo handler (POST /bench/echo) on the same Gin engine, with the
// same middleware, and serves until interrupted. Beside it, on -plain-addr,
// the peer: a plain Gin engine (gin.New, no middleware) whose POST
// /echo decodes the patient into the struct the API decodes it into and
// encodes it back. Run bench/serve/run.sh.
package main

import (
	"context"
	"flag"
	"io"
	"log"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/abscopal/abscopal/api"
	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/data/synth"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/train"
	"github.com/abscopal/abscopal/workflow"
	"github.com/gin-gonic/gin"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18181", "listen address")
	plainAddr := flag.String("plain-addr", "127.0.0.1:18182", "the plain Gin peer's listen address")
	flag.Parse()
	dir, err := os.MkdirTemp("", "abscopal-bench-")
	check(err)
	defer os.RemoveAll(dir)
	reg := &models.Registry{Dir: filepath.Join(dir, "registry")}
	ps := synth.Generate(5000, 1)
	recs := make([]features.Record, len(ps))
	for i := range ps {
		recs[i] = features.PatientRecord{P: &ps[i]}
	}
	for _, m := range [][2]string{{"abscopal", "abscopal_response"}, {"response", "objective_response"}} {
		_, _, files, err := workflow.TrainRecords(context.Background(), m[0], features.BuiltinSpec(m[1]), recs,
			train.Options{Algo: "gbm", Seed: 1, Bootstrap: 20, Settings: models.Settings{GBM: train.DefaultGBM()}}, models.TrainingInfo{Synthetic: true})
		check(err)
		_, err = reg.Publish(m[0], files)
		check(err)
	}
	srv, err := api.New(api.Config{Registry: reg.Dir, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	check(err)
	// The peer: the same engine and middleware, no model work.
	srv.Engine().POST("/bench/echo", func(c *gin.Context) {
		b, err := io.ReadAll(c.Request.Body)
		if err != nil {
			c.AbortWithStatus(http.StatusBadRequest)
			return
		}
		c.Data(http.StatusOK, "application/json", b)
	})
	gin.SetMode(gin.ReleaseMode)
	plain := gin.New()
	plain.POST("/echo", func(c *gin.Context) {
		var p data.Patient
		if err := c.ShouldBindJSON(&p); err != nil {
			c.AbortWithStatus(http.StatusBadRequest)
			return
		}
		c.JSON(http.StatusOK, &p)
	})
	go func() { log.Fatal(http.ListenAndServe(*plainAddr, plain)) }()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.Printf("serving on %s", *addr)
	check(srv.ListenAndServe(ctx, *addr))
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
