package docs

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/abscopal/abscopal/internal/testkit/gobuild"
	"github.com/abscopal/abscopal/internal/testkit/race"
	"github.com/abscopal/abscopal/internal/testkit/s3test"
	"github.com/abscopal/abscopal/internal/testkit/syncbuf"
)

// block is one fenced shell block of a guide.
type block struct {
	file string
	line int    // the line of its opening fence, counted from 1
	tag  string // "", "fails", "serve", "s3" or "example"
	text string
}

func (b block) String() string { return fmt.Sprintf("%s:%d", b.file, b.line) }

var tags = map[string]bool{"": true, "fails": true, "serve": true, "s3": true, "example": true}

// otherShells are fence languages that would hold a shell command the
// harness does not see: a guide writes sh, so that none escapes the test.
var otherShells = map[string]bool{"bash": true, "shell": true, "console": true, "zsh": true, "shell-session": true}

// guides are README.md and every Markdown file under docs/, relative to
// the repository root.
func guides(t *testing.T) []string {
	t.Helper()
	files := []string{"README.md"}
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".md") {
			files = append(files, filepath.ToSlash(filepath.Join("docs", path)))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// parseBlocks returns the shell blocks of a Markdown document, and an error
// for a shell block of another spelling or an unknown tag.
func parseBlocks(name string, src []byte) ([]block, error) {
	var blocks []block
	var cur *block
	var body strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(src))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if cur == nil {
			info, ok := strings.CutPrefix(line, "```")
			if !ok {
				continue
			}
			fields := strings.Fields(info)
			lang, tag := "", ""
			if len(fields) > 0 {
				lang = fields[0]
			}
			if len(fields) > 1 {
				tag = fields[1]
			}
			if otherShells[lang] {
				return nil, fmt.Errorf("%s:%d: a %q block: write sh, so that the test runs it (or sh example)", name, n, lang)
			}
			cur = &block{file: name, line: n, tag: "-"}
			if lang == "sh" {
				if !tags[tag] || len(fields) > 2 {
					return nil, fmt.Errorf("%s:%d: unknown sh block tag %q (allowed: none, fails, serve, example)", name, n, info)
				}
				cur.tag = tag
			}
			body.Reset()
			continue
		}
		if line == "```" {
			if cur.tag != "-" {
				cur.text = body.String()
				blocks = append(blocks, *cur)
			}
			cur = nil
			continue
		}
		body.WriteString(sc.Text())
		body.WriteByte('\n')
	}
	if cur != nil {
		return nil, fmt.Errorf("%s:%d: a code block that never closes", name, cur.line)
	}
	return blocks, sc.Err()
}

func TestParseBlocks(t *testing.T) {
	src := "text\n```sh\nabscopal version\n```\n```\nnot shell\n```\n  ```sh example\n  docker run x\n  ```\n```sh serve\nabscopal demo\n```\n"
	got, err := parseBlocks("g.md", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := []block{
		{file: "g.md", line: 2, tag: "", text: "abscopal version\n"},
		{file: "g.md", line: 8, tag: "example", text: "  docker run x\n"},
		{file: "g.md", line: 11, tag: "serve", text: "abscopal demo\n"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || len(got) != 3 || got[0].text != want[0].text || got[2].tag != "serve" {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	for _, bad := range []string{"```bash\nls\n```\n", "```sh maybe\nls\n```\n", "```sh\nls\n"} {
		if _, err := parseBlocks("g.md", []byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestBlocksAreMarked: every shell block of every guide is one the harness
// knows how to treat.
func TestBlocksAreMarked(t *testing.T) {
	for _, g := range guides(t) {
		src, err := os.ReadFile(filepath.Join("..", g))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parseBlocks(g, src); err != nil {
			t.Error(err)
		}
	}
}

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// binary builds abscopal once for every guide, as a user would.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "abscopal-docs-bin")
		if buildErr != nil {
			return
		}
		buildErr = gobuild.Build("../cmd/abscopal", filepath.Join(binDir, "abscopal"))
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir
}

// The S3-compatible server the guides' s3 blocks run on (s3test), with a
// bucket "models"; nil when its binary is not found.
var (
	s3server *s3test.Server
	s3err    error
)

func TestMain(m *testing.M) {
	code := s3test.Main(m, &s3server, &s3err)
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// TestGuides runs every shell block of README.md and docs/, guide by
// guide, as the package documentation describes.
func TestGuides(t *testing.T) {
	if testing.Short() {
		// On a fresh machine its build of the binary would compile every
		// dependency a second time, beside go test's own compiles.
		t.Skip("builds the binary and runs every guide (about 30 s): run without -short")
	}
	if race.Enabled {
		// The guides run a binary built without the detector: under it
		// this test would repeat the plain suite's work, the detector
		// watching only the test's own waiting.
		t.Skip("runs a binary built without -race: the plain suite runs it")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("the guides call the API with curl: install it (Debian: curl)")
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range guides(t) {
		src, err := os.ReadFile(filepath.Join(repo, g))
		if err != nil {
			t.Fatal(err)
		}
		blocks, err := parseBlocks(g, src)
		if err != nil {
			t.Fatal(err)
		}
		runnable := 0
		for _, b := range blocks {
			if b.tag != "example" {
				runnable++
			}
		}
		if runnable == 0 {
			continue
		}
		t.Run(strings.TrimSuffix(filepath.Base(g), ".md"), func(t *testing.T) {
			t.Parallel()
			runGuide(t, repo, binary(t), blocks)
		})
	}
}

// runGuide runs one guide's blocks in order in a directory of its own.
func runGuide(t *testing.T, repo, bin string, blocks []block) {
	dir := t.TempDir()
	if err := os.Symlink(filepath.Join(repo, "examples"), filepath.Join(dir, "examples")); err != nil {
		t.Fatal(err)
	}
	ports := map[string]string{"8080": freePort(t), "9090": freePort(t)}
	env := append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	rewrite := func(s string) string {
		s = strings.ReplaceAll(s, "go run ./cmd/abscopal", "abscopal")
		for from, to := range ports {
			s = strings.ReplaceAll(s, from, to)
		}
		return s
	}
	var servers []*server
	stopAll := func() {
		for _, s := range servers {
			if err := s.stop(t); err != nil {
				t.Errorf("%s: the server did not stop cleanly on SIGINT: %v\n%s", s.b, err, tail([]byte(s.out.String())))
			}
		}
		servers = nil
	}
	defer func() {
		for _, s := range servers {
			s.stop(t)
		}
	}()
	for _, b := range blocks {
		script := rewrite(b.text)
		cmdEnv := env
		switch b.tag {
		case "example":
			continue
		case "s3":
			// A block on a registry in object storage runs on the test's
			// S3 server, its endpoint and test identity in the
			// environment, as an operator's would be.
			if s3server == nil {
				if s3test.Required() {
					t.Fatalf("%s: ABSCOPAL_REQUIRE_S3 is set and no S3 server runs: %v", b, s3err)
				}
				t.Logf("%s: skipped, no S3 server (%v)", b, s3err)
				continue
			}
			s3server.MakeBucket(t, "models")
			cmdEnv = append(slices.Clone(env), s3server.Env()...)
		case "serve":
			// One server at a time: the one before stops first.
			stopAll()
			if !strings.Contains(b.text, "8080") {
				// Its default address (the demo's 127.0.0.1:8080) may be
				// taken on this machine.
				script = strings.TrimSpace(script) + " --addr 127.0.0.1:" + ports["8080"]
			}
			servers = append(servers, startServer(t, b, dir, env, script, ports["8080"]))
			continue
		}
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script)
		cmd.Dir, cmd.Env = dir, cmdEnv
		out, err := cmd.CombinedOutput()
		timedOut := ctx.Err() == context.DeadlineExceeded
		cancel()
		switch {
		case timedOut:
			t.Fatalf("%s: still running after 3 minutes:\n%s\n%s", b, b.text, tail(out))
		case b.tag == "fails" && err == nil:
			t.Fatalf("%s: exited 0, but the guide shows it failing:\n%s\n%s", b, b.text, tail(out))
		case (b.tag == "" || b.tag == "s3") && err != nil:
			t.Fatalf("%s: %v:\n%s\n%s", b, err, b.text, tail(out))
		}
		t.Logf("%s: ok (%.1f s)", b, time.Since(start).Seconds())
	}
	stopAll()
}

// server is a guide's background block.
type server struct {
	b       block
	cmd     *exec.Cmd
	out     *syncbuf.Buffer
	done    chan error
	stopped bool
}

func startServer(t *testing.T, b block, dir string, env []string, script, port string) *server {
	t.Helper()
	s := &server{b: b, out: new(syncbuf.Buffer), done: make(chan error, 1)}
	// exec: the shell becomes the server, so that SIGINT reaches it.
	s.cmd = exec.Command("bash", "-c", "exec "+strings.TrimSpace(script))
	s.cmd.Dir, s.cmd.Env = dir, env
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	url := "http://127.0.0.1:" + port + "/readyz"
	deadline := time.Now().Add(3 * time.Minute)
	for {
		select {
		case err := <-s.done:
			s.stopped = true
			t.Fatalf("%s: exited before it was ready (%v):\n%s", b, err, tail([]byte(s.out.String())))
		case <-time.After(200 * time.Millisecond):
		}
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Logf("%s: serving", b)
				return s
			}
		}
		if time.Now().After(deadline) {
			s.stop(t)
			t.Fatalf("%s: not ready after 3 minutes:\n%s", b, tail([]byte(s.out.String())))
		}
	}
}

// stop interrupts the server as Ctrl-C would and returns how it ended.
func (s *server) stop(t *testing.T) error {
	if s.stopped {
		return nil
	}
	s.stopped = true
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGINT)
	select {
	case err := <-s.done:
		return err
	case <-time.After(30 * time.Second):
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
		return fmt.Errorf("still running 30 s after SIGINT")
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

func tail(b []byte) string {
	const max = 4000
	if len(b) > max {
		return "...\n" + string(b[len(b)-max:])
	}
	return string(b)
}

// notebookCell is the part of a Jupyter cell the tests read.
type notebookCell struct {
	CellType       string            `json:"cell_type"`
	ExecutionCount *int              `json:"execution_count"`
	Outputs        []json.RawMessage `json:"outputs"`
	Source         any               `json:"source"`
}

type notebookOutput struct {
	OutputType string                     `json:"output_type"`
	Name       string                     `json:"name"`
	Text       any                        `json:"text"`
	Data       map[string]json.RawMessage `json:"data"`
	EName      string                     `json:"ename"`
	EValue     string                     `json:"evalue"`
}

func readNotebook(t *testing.T, path string) []notebookCell {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var nb struct {
		Cells []notebookCell `json:"cells"`
	}
	if err := json.Unmarshal(raw, &nb); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(nb.Cells) == 0 {
		t.Fatalf("%s: no cells", path)
	}
	return nb.Cells
}

const notebook = "notebooks/abscopal.ipynb"

// TestNotebookStripped: the committed notebook holds no outputs, so that a
// diff shows code and prose only and nothing stale passes for a result.
func TestNotebookStripped(t *testing.T) {
	for i, c := range readNotebook(t, notebook) {
		if c.CellType == "code" && (len(c.Outputs) > 0 || c.ExecutionCount != nil) {
			t.Errorf("%s: cell %d has outputs: strip them (jupyter nbconvert --clear-output --inplace %s)", notebook, i+1, notebook)
		}
	}
}

// TestNotebook executes the notebook with Debian's jupyter-nbconvert, the
// freshly built abscopal on PATH, and checks what it showed: every cell ran
// without an error (its own asserts hold: its AUC is the one abscopal
// evaluate reports, the API's probabilities are batch scoring's), and it
// drew its two figures. It skips where jupyter or pandas is missing, unless
// ABSCOPAL_REQUIRE_NOTEBOOK=1 (CI) says it must run.
func TestNotebook(t *testing.T) {
	if testing.Short() {
		t.Skip("executes the notebook (about 10 s): run without -short")
	}
	jupyter, err := exec.LookPath("jupyter")
	if err == nil {
		err = exec.Command("/usr/bin/python3", "-c", "import pandas, matplotlib, nbconvert, ipykernel").Run()
	}
	if err != nil {
		if os.Getenv("ABSCOPAL_REQUIRE_NOTEBOOK") == "1" {
			t.Fatalf("jupyter, pandas or matplotlib missing (%v): apt-get install jupyter-nbconvert python3-ipykernel python3-pandas python3-matplotlib", err)
		}
		t.Skipf("jupyter, pandas or matplotlib missing (%v)", err)
	}
	bin := binary(t)
	out := filepath.Join(t.TempDir(), "executed.ipynb")
	cmd := exec.Command(jupyter, "nbconvert", "--to", "notebook", "--execute",
		"--ExecutePreprocessor.timeout=300", "--output", out, notebook)
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the notebook failed: %v\n%s", err, tail(msg))
	}
	var images int
	var text strings.Builder
	for _, c := range readNotebook(t, out) {
		for _, raw := range c.Outputs {
			var o notebookOutput
			if err := json.Unmarshal(raw, &o); err != nil {
				t.Fatal(err)
			}
			switch o.OutputType {
			case "error":
				t.Errorf("a cell failed: %s: %s", o.EName, o.EValue)
			case "stream":
				if o.Name == "stderr" {
					t.Errorf("a cell wrote to stderr: %v", o.Text)
				}
				text.WriteString(fmt.Sprint(o.Text))
			}
			if _, ok := o.Data["image/png"]; ok {
				images++
			}
		}
	}
	if images != 2 {
		t.Errorf("the notebook drew %d figures, want 2 (the contributions' summary, the calibration curve)", images)
	}
	for _, want := range []string{"'abscopal.synthetic': 'true'", "abscopal evaluate", "largest difference between the API and batch scoring"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the notebook's output lacks %q:\n%s", want, text.String())
		}
	}
}
