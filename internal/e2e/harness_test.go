package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/weir-streams/weir/internal/client"
)

// repoRoot is two levels up from this package.
func repoRoot() string {
	wd, _ := os.Getwd()
	return filepath.Join(wd, "..", "..")
}

func binPath(t testing.TB) string {
	p := os.Getenv("WEIR_TEST_BIN")
	if p == "" {
		p = filepath.Join(repoRoot(), "bin", "weir")
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("weir binary not found at %s: run `make build` (make test does)", p)
	}
	return p
}

// wasmPath returns a built module, e.g. "orders.wasm" or "testdata/trap.wasm".
func wasmPath(t testing.TB, name string) string {
	dir := os.Getenv("WEIR_TEST_WASM_DIR")
	if dir == "" {
		dir = filepath.Join(repoRoot(), "build", "wasm")
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("module %s not found: run `make examples` (make test does)", p)
	}
	return p
}

// standalone is a running `weir standalone` process.
type standalone struct {
	t        testing.TB
	dataDir  string
	cmd      *exec.Cmd
	httpURL  string
	natsURL  string
	grpcAddr string
	client   *client.Client
	nc       *nats.Conn
	js       jetstream.JetStream
	exited   chan struct{}
	logMu    sync.Mutex
	log      strings.Builder
}

var (
	httpRE = regexp.MustCompile(`http=(http://[0-9.:]+)`)
	natsRE = regexp.MustCompile(`nats=(nats://[0-9.:]+)`)
	grpcRE = regexp.MustCompile(`grpc=([0-9.]+:[0-9]+)`)
)

// startStandalone starts weir standalone on dataDir with free ports.
func startStandalone(t testing.TB, dataDir string, extra ...string) *standalone {
	t.Helper()
	args := append([]string{"standalone", "--data-dir", dataDir, "--http", "127.0.0.1:0", "--nats-port", "0"}, extra...)
	s := startWeir(t, "weir standalone ready", args...)
	s.dataDir = dataDir
	s.connect()
	return s
}

// startWeir starts a weir process and waits until it logs ready.
func startWeir(t testing.TB, ready string, args ...string) *standalone {
	t.Helper()
	return startWeirEnv(t, nil, ready, args...)
}

// startWeirEnv is startWeir with more environment variables.
func startWeirEnv(t testing.TB, env []string, ready string, args ...string) *standalone {
	t.Helper()
	cmd := exec.Command(binPath(t), args...)
	cmd.Env = append(append(os.Environ(), "GOMAXPROCS=2"), env...)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	s := &standalone{t: t, cmd: cmd, exited: make(chan struct{})}
	readyc := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var once sync.Once
		for sc.Scan() {
			line := sc.Text()
			s.logMu.Lock()
			s.log.WriteString(line + "\n")
			if m := httpRE.FindStringSubmatch(line); m != nil {
				s.httpURL = m[1]
			}
			if m := natsRE.FindStringSubmatch(line); m != nil {
				s.natsURL = m[1]
			}
			if m := grpcRE.FindStringSubmatch(line); m != nil {
				s.grpcAddr = m[1]
			}
			s.logMu.Unlock()
			if strings.Contains(line, ready) {
				once.Do(func() { close(readyc) })
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	go func() { _ = cmd.Wait(); close(s.exited) }()
	select {
	case <-readyc:
	case <-s.exited:
		t.Fatalf("weir %s exited at start:\n%s", args[0], s.logs())
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("weir %s not ready after 60s:\n%s", args[0], s.logs())
	}
	t.Cleanup(func() { s.kill() })
	return s
}

// connect makes the REST client and a NATS connection for the test's own use.
func (s *standalone) connect() {
	s.t.Helper()
	var err error
	s.logMu.Lock()
	httpURL, natsURL := s.httpURL, s.natsURL
	s.logMu.Unlock()
	s.client = client.New(httpURL, &http.Client{Timeout: 60 * time.Second})
	s.nc, err = nats.Connect(natsURL)
	require.NoError(s.t, err)
	s.js, err = jetstream.New(s.nc)
	require.NoError(s.t, err)
}

func (s *standalone) logs() string {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return s.log.String()
}

// stop sends SIGTERM and waits for a graceful exit.
func (s *standalone) stop() {
	s.t.Helper()
	if s.nc != nil {
		s.nc.Close()
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(90 * time.Second):
		_ = s.cmd.Process.Kill()
		s.t.Fatalf("weir standalone did not stop within 90s after SIGTERM:\n%s", s.logs())
	}
	if code := s.cmd.ProcessState.ExitCode(); code != 0 {
		s.t.Fatalf("weir standalone exited with %d after SIGTERM:\n%s", code, s.logs())
	}
}

// kill sends SIGKILL.
func (s *standalone) kill() {
	if s.nc != nil {
		s.nc.Close()
	}
	select {
	case <-s.exited:
	default:
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

func (s *standalone) upload(name, file string) *client.Module {
	s.t.Helper()
	f, err := os.Open(wasmPath(s.t, file))
	require.NoError(s.t, err)
	defer f.Close()
	m, err := s.client.UploadModule(context.Background(), name, f)
	require.NoError(s.t, err)
	return m
}

// stream creates a stream capturing subject.
func (s *standalone) stream(name, subject string) {
	s.t.Helper()
	_, err := s.js.CreateStream(context.Background(), jetstream.StreamConfig{Name: name, Subjects: []string{subject}, Storage: jetstream.FileStorage})
	require.NoError(s.t, err)
}

// publish publishes payloads to subject, waiting for every ack.
func (s *standalone) publish(subject string, payloads [][]byte) {
	s.t.Helper()
	subjects := make([]string, len(payloads))
	for i := range subjects {
		subjects[i] = subject
	}
	s.publishTo(subjects, payloads)
}

// publishTo publishes payloads[i] to subjects[i], waiting for every ack.
func (s *standalone) publishTo(subjects []string, payloads [][]byte) {
	s.t.Helper()
	js, err := jetstream.New(s.nc, jetstream.WithPublishAsyncMaxPending(4096))
	require.NoError(s.t, err)
	for i, p := range payloads {
		for {
			_, err := js.PublishAsync(subjects[i], p)
			if errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
				<-js.PublishAsyncComplete()
				continue
			}
			require.NoError(s.t, err)
			break
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(2 * time.Minute):
		s.t.Fatal("publishing timed out")
	}
}

func (s *standalone) msgCount(stream string) uint64 {
	info, err := s.js.Stream(context.Background(), stream)
	require.NoError(s.t, err)
	i, err := info.Info(context.Background())
	require.NoError(s.t, err)
	return i.State.Msgs
}

// waitCount waits until stream holds at least n messages.
func (s *standalone) waitCount(stream string, n uint64, timeout time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := s.msgCount(stream)
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("stream %s holds %d messages after %s, want %d\n%s", stream, got, timeout, n, s.logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// readAll returns every message payload of stream.
func (s *standalone) readAll(stream string) []string {
	s.t.Helper()
	var out []string
	s.forEach(stream, func(m jetstream.Msg) { out = append(out, string(m.Data())) })
	return out
}

// forEach calls fn with every message of stream, in order.
func (s *standalone) forEach(stream string, fn func(jetstream.Msg)) {
	s.t.Helper()
	n := s.msgCount(stream)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := s.js.Stream(ctx, stream)
	require.NoError(s.t, err)
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	require.NoError(s.t, err)
	for read := uint64(0); read < n; {
		batch, err := cons.Fetch(1000, jetstream.FetchMaxWait(5*time.Second))
		require.NoError(s.t, err)
		for m := range batch.Messages() {
			fn(m)
			read++
		}
		require.NoError(s.t, batch.Error())
	}
}

func (s *standalone) submit(spec string) string {
	s.t.Helper()
	res, err := s.client.SubmitJob(context.Background(), []byte(spec), false)
	require.NoError(s.t, err, "submitting:\n%s", spec)
	return res.ID
}

func (s *standalone) job(id string) *client.Job {
	s.t.Helper()
	j, err := s.client.GetJob(context.Background(), id)
	require.NoError(s.t, err)
	return j
}

// waitStatus waits for a job to reach status.
func (s *standalone) waitStatus(id, status string, timeout time.Duration) *client.Job {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		j := s.job(id)
		if j.Status == status {
			return j
		}
		if time.Now().After(deadline) {
			b, _ := json.MarshalIndent(j, "", "  ")
			s.t.Fatalf("job %s is %s after %s, want %s:\n%s\n%s", id, j.Status, timeout, status, b, s.logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func orderPayloads(from, to int) [][]byte {
	out := make([][]byte, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, fmt.Appendf(nil, `{"id":%d,"amount":%d,"user":"u%d"}`, i, i%7-3, i%13))
	}
	return out
}

// expectedOrders is what enrich then positive make of orderPayloads.
func expectedOrders(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		if a := i%7 - 3; a > 0 {
			out = append(out, fmt.Sprintf(`{"id":%d,"amount":%d,"user":"u%d"}`, i, a*100, i%13))
		}
	}
	return out
}

func ordersJob(name, module, in, out string, parallelism int) string {
	return fmt.Sprintf(`name: %s
parallelism: %d
pipeline:
  - id: orders
    source:
      jetstream: { stream: %s }
  - id: enrich
    map: { module: %s, function: enrich }
  - id: positive
    filter: { module: %s, function: positive }
  - id: out
    sink:
      jetstream: { subject: %s }
`, name, parallelism, in, module, module, out)
}
