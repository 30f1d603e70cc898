package control_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/weir-streams/weir/control"
	"github.com/weir-streams/weir/internal/client"
	"github.com/weir-streams/weir/internal/embednats"
	"github.com/weir-streams/weir/worker"
)

// cluster is the control plane and a worker in this process over a real embedded
// NATS server, so that the race detector sees the whole data path.
type cluster struct {
	client *client.Client
	js     jetstream.JetStream
	ctl    *control.Control
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	dir := t.TempDir()
	ns, err := embednats.Start(embednats.Options{Dir: dir, Port: -1})
	require.NoError(t, err)
	t.Cleanup(ns.Shutdown)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx := context.Background()
	cnc, err := embednats.Connect(ns, "control")
	require.NoError(t, err)
	t.Cleanup(cnc.Close)
	ctl, err := control.New(ctx, control.Options{CacheDir: os.Getenv("WEIR_TEST_WASM_CACHE")}, cnc, logger, prometheus.NewRegistry())
	require.NoError(t, err)
	wnc, err := embednats.Connect(ns, "worker")
	require.NoError(t, err)
	t.Cleanup(wnc.Close)
	wk, err := worker.New(ctx, worker.Options{Slots: 2, DataDir: dir}, wnc, ctl, logger)
	require.NoError(t, err)
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- wk.Run(wctx) }()
	srv := httptest.NewServer(ctl.Handler())
	t.Cleanup(func() {
		srv.Close()
		require.NoError(t, ctl.Close(ctx))
		stop()
		require.NoError(t, <-done)
	})
	js, err := jetstream.New(cnc)
	require.NoError(t, err)
	return &cluster{client: client.New(srv.URL, srv.Client()), js: js, ctl: ctl}
}

func wasmFile(t *testing.T, name string) *os.File {
	dir := os.Getenv("WEIR_TEST_WASM_DIR")
	if dir == "" {
		dir = filepath.Join("..", "build", "wasm")
	}
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		t.Fatalf("%v (run `make examples`; make test does)", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestJobLifecycle(t *testing.T) {
	c := startCluster(t)
	ctx := context.Background()
	_, err := c.client.UploadModule(ctx, "orders", wasmFile(t, "orders_wat.wasm"))
	require.NoError(t, err)
	for name, subj := range map[string]string{"IN": "in", "OUT": "out"} {
		_, err := c.js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{subj}})
		require.NoError(t, err)
	}
	spec := `name: lifecycle
parallelism: 2
pipeline:
  - id: src
    source: { jetstream: { stream: IN } }
  - id: enrich
    map: { module: orders, function: enrich }
  - id: split
    flat_map: { module: orders, function: split }
  - id: out
    sink: { jetstream: { subject: out } }
`
	dry, err := c.client.SubmitJob(ctx, []byte(spec), true)
	require.NoError(t, err)
	require.Contains(t, string(dry.Plan), `"rebalance"`)

	res, err := c.client.SubmitJob(ctx, []byte(spec), false)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		j, err := c.client.GetJob(ctx, res.ID)
		return err == nil && j.Status == "RUNNING"
	}, 3*time.Minute, 50*time.Millisecond)

	const n = 2000
	for i := 0; i < n; i++ {
		_, err := c.js.Publish(ctx, "in", fmt.Appendf(nil, `{"amount":%d,"words":["w%d","x"]}`, i, i))
		require.NoError(t, err)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		s, _ := c.js.Stream(ctx, "OUT")
		info, _ := s.Info(ctx)
		if info.State.Msgs == 2*n {
			break
		}
		j, err := c.client.GetJob(ctx, res.ID)
		require.NoError(t, err)
		if j.Status != "RUNNING" || time.Now().After(deadline) {
			ex, _ := c.client.JobExceptions(ctx, res.ID)
			t.Fatalf("job is %s (%s) with %d of %d records out; exceptions: %+v", j.Status, j.Reason, info.State.Msgs, 2*n, ex)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Headers carry the timestamp; payloads are the words.
	s, _ := c.js.Stream(ctx, "OUT")
	msg, err := s.GetMsg(ctx, 1)
	require.NoError(t, err)
	require.NotEmpty(t, msg.Header.Get("Weir-Timestamp"))
	require.True(t, strings.HasPrefix(string(msg.Data), `"`))

	resp, err := http.Get(c.client.BaseURL() + "/api/v1/workers")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	require.Eventually(t, func() bool {
		resp, err := http.Get(c.client.BaseURL() + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), `weir_subtask_records_in_total{job_id="`+res.ID+`",job_name="lifecycle",subtask="1",vertex="enrich"}`) &&
			strings.Contains(string(b), `weir_jobs{status="RUNNING"} 1`)
	}, 30*time.Second, 100*time.Millisecond, "/metrics shows per-subtask records and jobs by status")

	_, err = c.client.CancelJob(ctx, res.ID)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		j, err := c.client.GetJob(ctx, res.ID)
		return err == nil && j.Status == "CANCELED"
	}, 3*time.Minute, 50*time.Millisecond)
	_, err = c.client.CancelJob(ctx, res.ID)
	require.Error(t, err, "cancelling an ended job is a conflict")
	require.NoError(t, c.client.DeleteModule(ctx, "orders"), "no live job uses it any more")
}

func TestNotFoundAndHealth(t *testing.T) {
	c := startCluster(t)
	ctx := context.Background()
	require.NoError(t, c.client.Health(ctx))
	_, err := c.client.GetJob(ctx, "nope")
	var ae *client.APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, http.StatusNotFound, ae.Status)
	_, err = c.client.GetModule(ctx, "nope")
	require.ErrorAs(t, err, &ae)
	require.Equal(t, http.StatusNotFound, ae.Status)
	resp, err := http.Get(c.client.BaseURL() + "/api/v1/nothing")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestExactlyOnceSinkNeedsDuplicateWindow(t *testing.T) {
	c := startCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for name, window := range map[string]time.Duration{"SHORT": 5 * time.Second, "DEFAULT": 0} {
		_, err := c.js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{strings.ToLower(name)}, Duplicates: window})
		require.NoError(t, err)
	}
	_, err := c.js.CreateStream(ctx, jetstream.StreamConfig{Name: "IN", Subjects: []string{"in"}})
	require.NoError(t, err)
	job := func(subject string) []byte {
		return []byte(`name: eo
checkpointing: { interval: 1s }
pipeline:
  - source: { jetstream: { stream: IN } }
  - sink: { jetstream: { subject: ` + subject + ` }, delivery: exactly_once }
`)
	}
	_, err = c.client.SubmitJob(ctx, job("short"), true)
	var ae *client.APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, http.StatusBadRequest, ae.Status)
	require.Equal(t, "pipeline[1].sink.delivery", ae.Field)
	require.Contains(t, ae.Message, "stream SHORT to de-duplicate for at least 41s (heartbeat timeout 10s + longest restart delay 1s + 30s to restore and re-publish), but its duplicate_window is 5s")

	// A stream with JetStream's default window of two minutes is enough with
	// the default settings.
	_, err = c.client.SubmitJob(ctx, job("default"), true)
	require.NoError(t, err)
}
