// Package s3test starts a real S3-compatible server for tests: SeaweedFS's
// weed (master, volume, filer and S3 gateway in one process, on loopback),
// built by build-weed.sh (beside this file) and found through ABSCOPAL_WEED or PATH.
//
// Without the binary, tests skip, unless ABSCOPAL_REQUIRE_S3 is set (CI
// sets it), when they fail.
package s3test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// The test identity the server is configured with: test credentials, used
// on loopback only.
const (
	AccessKey = "abscopaltest"
	SecretKey = "abscopaltestsecret"
)

// Server is a running weed server with its S3 gateway.
type Server struct {
	// Endpoint is the S3 gateway's URL (http://127.0.0.1:PORT).
	Endpoint string
	cmd      *exec.Cmd
	log      string
	done     chan error
	bucket   string
}

// Binary finds weed: ABSCOPAL_WEED, else PATH. ok is false when there is
// none.
func Binary() (string, bool) {
	if p := os.Getenv("ABSCOPAL_WEED"); p != "" {
		return p, true
	}
	p, err := exec.LookPath("weed")
	return p, err == nil
}

// Required reports whether the S3 tests must run (ABSCOPAL_REQUIRE_S3).
func Required() bool { return os.Getenv("ABSCOPAL_REQUIRE_S3") != "" }

// Start starts weed with its data under dir and waits until its S3 gateway
// answers. The caller stops it with Close.
func Start(dir string) (*Server, error) {
	bin, ok := Binary()
	if !ok {
		return nil, errors.New("no weed binary: build it with internal/testkit/s3test/build-weed.sh and set ABSCOPAL_WEED, or put weed on PATH")
	}
	ports, err := freePorts(8)
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, err
	}
	config := filepath.Join(dir, "s3.json")
	identity := `{"identities":[{"name":"abscopal","credentials":[{"accessKey":"` + AccessKey + `","secretKey":"` + SecretKey + `"}],"actions":["Admin","Read","Write","List","Tagging"]}]}`
	if err := os.WriteFile(config, []byte(identity), 0o600); err != nil {
		return nil, err
	}
	p := func(i int) string { return strconv.Itoa(ports[i]) }
	args := []string{"server", "-dir=" + data, "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
		"-master.port=" + p(0), "-master.port.grpc=" + p(1), "-master.volumeSizeLimitMB=64",
		"-volume.port=" + p(2), "-volume.port.grpc=" + p(3), "-volume.max=16",
		"-filer", "-filer.port=" + p(4), "-filer.port.grpc=" + p(5),
		"-s3", "-s3.port=" + p(6), "-s3.port.grpc=" + p(7), "-s3.port.iceberg=0", "-s3.port.lance=0", "-s3.config=" + config}
	logPath := filepath.Join(dir, "weed.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s := &Server{Endpoint: "http://127.0.0.1:" + p(6), cmd: cmd, log: logPath, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait(); logFile.Close() }()
	// The gateway answers once master, volume and filer are up; a bucket
	// can be made once a volume has registered, so wait for that too.
	deadline := time.Now().Add(90 * time.Second)
	for {
		if err := s.probe(); err == nil {
			if err := s.makeBucket(); err != nil {
				s.Close()
				return nil, err
			}
			return s, nil
		} else if time.Now().After(deadline) {
			s.Close()
			return nil, fmt.Errorf("weed did not come up in 90 s (%v); its log: %s", err, s.tail())
		}
		select {
		case err := <-s.done:
			s.done <- err
			return nil, fmt.Errorf("weed exited: %v; its log: %s", err, s.tail())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// probe makes and removes a bucket.
func (s *Server) probe() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := s.Client()
	if err != nil {
		return err
	}
	b := "probe-" + randomHex(4)
	if err := c.MakeBucket(ctx, b, minio.MakeBucketOptions{}); err != nil {
		return err
	}
	return c.RemoveBucket(ctx, b)
}

func (s *Server) makeBucket() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := s.Client()
	if err != nil {
		return err
	}
	s.bucket = "abscopal-test"
	if err := c.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{}); err != nil {
		return err
	}
	// The first write to a bucket waits for its volumes to be allocated
	// (8 s here): taken now, not inside the first test's timing.
	_, err = c.PutObject(ctx, s.bucket, ".warm", strings.NewReader("warm"), 4, minio.PutObjectOptions{})
	return err
}

// Client returns a client of the server with the test identity.
func (s *Server) Client() (*minio.Client, error) {
	return minio.New(strings.TrimPrefix(s.Endpoint, "http://"), &minio.Options{
		Creds: credentials.NewStaticV4(AccessKey, SecretKey, ""), BucketLookup: minio.BucketLookupPath})
}

// URL returns an s3:// URL of a new prefix in the server's bucket: each
// test a registry of its own. One bucket serves them all, since SeaweedFS
// gives each bucket volumes of its own, and a few buckets take them all.
func (s *Server) URL(t testing.TB) string {
	t.Helper()
	return "s3://" + s.bucket + "/" + randomHex(6)
}

// MakeBucket makes a bucket of the given name unless it exists.
func (s *Server) MakeBucket(t testing.TB, name string) {
	t.Helper()
	c, err := s.Client()
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := c.BucketExists(t.Context(), name); err == nil && ok {
		return
	}
	if err := c.MakeBucket(t.Context(), name, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("make bucket %s: %v", name, err)
	}
}

// Bucket is the server's bucket.
func (s *Server) Bucket() string { return s.bucket }

// Env is the environment a client of the server needs: the endpoint and
// the test identity, as AWS's variables.
func (s *Server) Env() []string {
	return []string{"AWS_ENDPOINT_URL=" + s.Endpoint, "AWS_ACCESS_KEY_ID=" + AccessKey, "AWS_SECRET_ACCESS_KEY=" + SecretKey, "AWS_REGION=us-east-1"}
}

// Getenv reads Env, for s3store.Config.
func (s *Server) Getenv(name string) string {
	for _, kv := range s.Env() {
		if k, v, _ := strings.Cut(kv, "="); k == name {
			return v
		}
	}
	return ""
}

// Close stops the server.
func (s *Server) Close() {
	if s.cmd.Process != nil {
		s.cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-s.done:
			s.done <- err
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill()
		}
	}
}

// Stop kills the server at once, as a store that goes down does.
func (s *Server) Stop() { s.cmd.Process.Kill() }

func (s *Server) tail() string {
	b, _ := os.ReadFile(s.log)
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

// Main starts a server for a package's tests and runs them; the tests
// read it from the returned pointer, nil when none could be started (then
// each test calls Need, which skips or fails).
func Main(m interface{ Run() int }, srv **Server, startErr *error) int {
	dir, err := os.MkdirTemp("", "abscopal-weed-")
	if err != nil {
		*startErr = err
		return m.Run()
	}
	defer os.RemoveAll(dir)
	s, err := Start(dir)
	if err != nil {
		*startErr = err
		return m.Run()
	}
	defer s.Close()
	*srv = s
	return m.Run()
}

// Need skips the test when no server runs, or fails it when the S3 tests
// are required.
func Need(t testing.TB, srv *Server, startErr error) *Server {
	t.Helper()
	if srv != nil {
		return srv
	}
	if Required() {
		t.Fatalf("ABSCOPAL_REQUIRE_S3 is set and no S3 server runs: %v", startErr)
	}
	t.Skipf("no S3 server (set ABSCOPAL_REQUIRE_S3 to make this a failure): %v", startErr)
	return nil
}

func freePorts(n int) ([]int, error) {
	var out []int
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Ready waits until url answers 200, or the deadline.
func Ready(url string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready in %s (%v)", url, within, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Proxy forwards TCP connections to the server's S3 gateway until cut: a
// store that goes down and comes back, for one test, while the server
// itself serves the others.
type Proxy struct {
	// Endpoint is the proxy's URL, to give clients in place of the
	// server's.
	Endpoint string
	target   string
	mu       sync.Mutex
	ln       net.Listener
	conns    map[net.Conn]bool
	addr     string
}

// Proxy starts a proxy to the server; t's cleanup stops it.
func (s *Server) Proxy(t testing.TB) *Proxy {
	t.Helper()
	p := &Proxy{target: strings.TrimPrefix(s.Endpoint, "http://"), conns: map[net.Conn]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.Endpoint = "http://" + p.addr
	p.serve(ln)
	t.Cleanup(p.Cut)
	return p
}

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
}

func (p *Proxy) forward(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[up] = true, true
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, c); done <- struct{}{} }()
	go func() { io.Copy(c, up); done <- struct{}{} }()
	<-done
	c.Close()
	up.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

// Cut stops the proxy and drops its connections: the store is down.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
}

// Restore listens again on the same address: the store is back.
func (p *Proxy) Restore(t testing.TB) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.serve(ln)
}
