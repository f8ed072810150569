package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/spf13/cobra"
)

// newHealthcheckCmd probes a running server. The container image holds
// the binary alone, with no shell or curl for a HEALTHCHECK command, so the
// binary probes itself.
func newHealthcheckCmd() *cobra.Command {
	var (
		url      string
		timeout  time.Duration
		insecure bool
	)
	cmd := &cobra.Command{
		Use:   "healthcheck [--url URL]",
		Short: "Exit 0 when a running abscopal server answers its readiness probe",
		Long: `healthcheck sends GET to a running server's /readyz (ready once models are
loaded) and exits 0 on 200, 1 otherwise. The Docker image uses it as its
HEALTHCHECK; use /healthz for liveness only. A server with its own TLS
certificate is probed at https://...; --insecure accepts its certificate
unchecked, as Kubernetes' HTTPS probes do, for a probe of the local server
under a name its certificate does not hold.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if timeout <= 0 {
				return usageError{fmt.Errorf("--timeout %v must be positive", timeout)}
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err != nil {
				return usageError{fmt.Errorf("--url %q: %w", url, err)}
			}
			client := http.DefaultClient
			if insecure {
				// The probe reads a status code of the local server and sends
				// nothing secret.
				client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
			}
			resp, err := client.Do(req)
			if err != nil {
				if errors.Is(err, context.DeadlineExceeded) {
					return fmt.Errorf("%s: no answer within %v", url, timeout)
				}
				return fmt.Errorf("%s: %w", url, err)
			}
			defer resp.Body.Close()
			io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("%s: %s", url, resp.Status)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", url, resp.Status)
			return nil
		},
	}
	cmd.Flags().StringVar(&url, "url", "http://127.0.0.1:8080/readyz", "the probe to call")
	cmd.Flags().DurationVar(&timeout, "timeout", 3*time.Second, "how long to wait for the answer")
	cmd.Flags().BoolVar(&insecure, "insecure", false, "https: accept the server's certificate without checking it")
	return cmd
}
