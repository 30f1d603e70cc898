package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/weir-streams/weir/internal/client"
	"github.com/weir-streams/weir/internal/embednats"
)

// cluster is the distributed topology on loopback: a NATS server with JetStream
// (in the test process), `weir control` and `weir worker` processes.
type cluster struct {
	t       *testing.T
	dir     string
	ns      *server.Server
	control *standalone
	workers map[string]*standalone
}

func startCluster(t *testing.T, workers, slots int, controlArgs ...string) *cluster {
	t.Helper()
	dir := t.TempDir()
	ns, err := embednats.Start(embednats.Options{Dir: filepath.Join(dir, "nats"), Port: -1})
	require.NoError(t, err)
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	c := &cluster{t: t, dir: dir, ns: ns, workers: map[string]*standalone{}}
	args := append([]string{"control", "--nats", ns.ClientURL(), "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0",
		"--data-dir", filepath.Join(dir, "control")}, controlArgs...)
	c.control = startWeir(t, "weir control ready", args...)
	c.control.connect()
	for i := 1; i <= workers; i++ {
		c.startWorker(fmt.Sprintf("w%d", i), slots)
	}
	c.waitWorkers(workers)
	// A failure shows what every worker logged, not only the control plane.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs of the cluster:\n%s", c.logs())
		}
	})
	return c
}

// startWorker starts (or starts again) the worker id.
func (c *cluster) startWorker(id string, slots int) *standalone {
	c.t.Helper()
	w := startWeir(c.t, "worker registered", "worker", "--id", id, "--slots", fmt.Sprint(slots),
		"--control", c.control.grpcAddr, "--nats", c.ns.ClientURL(), "--data-dir", filepath.Join(c.dir, id))
	c.workers[id] = w
	return w
}

func (c *cluster) waitWorkers(n int) {
	c.t.Helper()
	require.Eventually(c.t, func() bool {
		ws, err := c.control.client.Workers(context.Background())
		return err == nil && len(ws.Workers) == n
	}, 30*time.Second, 100*time.Millisecond, "%d workers never registered", n)
}

func (c *cluster) logs() string {
	var b strings.Builder
	b.WriteString("== control\n" + c.control.logs())
	for id, w := range c.workers {
		b.WriteString("== " + id + "\n" + w.logs())
	}
	return b.String()
}

// keyedOrders are orders whose user decides their partition: user u(i%12) always
// goes to partition (i%12)%3, so that the order of one user's records is defined.
func keyedOrders(from, to int) (subjects []string, payloads [][]byte) {
	for i := from; i < to; i++ {
		subjects = append(subjects, fmt.Sprintf("dist.%d", (i%12)%3))
		payloads = append(payloads, fmt.Appendf(nil, `{"id":%d,"amount":%d,"user":"u%d"}`, i, i%7-3, i%12))
	}
	return subjects, payloads
}

// expectedKeyed is what enrich then positive make of keyedOrders.
func expectedKeyed(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		if a := i%7 - 3; a > 0 {
			out = append(out, fmt.Sprintf(`{"id":%d,"amount":%d,"user":"u%d"}`, i, a*100, i%12))
		}
	}
	return out
}

const distJob = `name: dist
parallelism: 3
restart: { strategy: fixed_delay, attempts: 10, delay: 500ms }
pipeline:
  - id: orders
    source:
      jetstream: { stream: DIST, subjects: ["dist.*"], partitions: { count: 3, token: 2 } }
  - id: by-user
    key_by: { json_field: user }
  - id: enrich
    map: { module: orders, function: enrich }
  - id: positive
    filter: { module: orders, function: positive }
  - id: out
    sink:
      jetstream: { subject: dout }
`

func (c *cluster) setupOrders() {
	c.t.Helper()
	s := c.control
	s.upload("orders", "orders_wat.wasm")
	_, err := s.js.CreateStream(context.Background(), jetstream.StreamConfig{Name: "DIST", Subjects: []string{"dist.*"}, Storage: jetstream.FileStorage})
	require.NoError(c.t, err)
	s.stream("DOUT", "dout")
}

// sampler reads the job every interval and checks the exchange's invariants.
type sampler struct {
	mu        sync.Mutex
	samples   int
	violation string
	stop      chan struct{}
	done      chan struct{}
}

func sampleJob(s *standalone, id string) *sampler {
	sm := &sampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(sm.done)
		for {
			select {
			case <-sm.stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
			j, err := s.client.GetJob(context.Background(), id)
			if err != nil || j.Plan == nil {
				continue
			}
			sm.mu.Lock()
			sm.samples++
			for _, v := range j.Plan.Vertices {
				for _, st := range v.Subtasks {
					if st.InputQueued > st.InputCredit && sm.violation == "" {
						sm.violation = fmt.Sprintf("%s[%d]: %d buffers queued with credit for %d", v.ID, st.Index, st.InputQueued, st.InputCredit)
					}
				}
			}
			sm.mu.Unlock()
		}
	}()
	return sm
}

func (sm *sampler) finish(t *testing.T) {
	t.Helper()
	close(sm.stop)
	<-sm.done
	require.Empty(t, sm.violation, "flow control broke its promise")
	require.Positive(t, sm.samples)
}

// checkPerKeyOrder checks that each user's ids arrive increasing.
func checkPerKeyOrder(t *testing.T, got []string) {
	t.Helper()
	last := map[string]int{}
	for _, g := range got {
		var o struct {
			ID   int    `json:"id"`
			User string `json:"user"`
		}
		require.NoError(t, json.Unmarshal([]byte(g), &o), g)
		if prev, ok := last[o.User]; ok && o.ID <= prev {
			t.Fatalf("user %s: id %d arrived after id %d", o.User, o.ID, prev)
		}
		last[o.User] = o.ID
	}
}

func TestDistributedExactlyOnceWithoutFailures(t *testing.T) {
	c := startCluster(t, 3, 2)
	c.setupOrders()
	s := c.control
	const n = 30000
	subjects, payloads := keyedOrders(0, n)
	s.publishTo(subjects, payloads)
	id := s.submit(distJob)
	sm := sampleJob(s, id)
	want := expectedKeyed(0, n)
	s.waitCount("DOUT", uint64(len(want)), 3*time.Minute)
	time.Sleep(2 * time.Second) // a heartbeat with the final metrics; and any extra record
	sm.finish(t)
	got := s.readAll("DOUT")
	assertExactly(t, want, got)
	checkPerKeyOrder(t, got)

	j := s.job(id)
	workers := map[string]bool{}
	var exchanged int64
	for _, v := range j.Plan.Vertices {
		for _, st := range v.Subtasks {
			workers[st.Worker] = true
			exchanged += st.ExchangeBytesOut
		}
	}
	require.GreaterOrEqual(t, len(workers), 2, "subtasks on %v", workers)
	require.Positive(t, exchanged, "no bytes crossed NATS between workers")
	require.Zero(t, c.ns.NumSlowConsumers(), "NATS saw a slow consumer")
	hashEdges := 0
	for _, e := range j.Plan.Edges {
		if e.Partitioning == "hash" {
			hashEdges++
		}
	}
	require.Equal(t, 1, hashEdges, "the key_by must make one hash edge")
	t.Logf("subtasks on %d workers, %d bytes over NATS", len(workers), exchanged)
}

// waitAttempt waits until the job runs an attempt after attempt.
func waitAttempt(t *testing.T, s *standalone, id string, after uint64, timeout time.Duration) *client.Job {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		j := s.job(id)
		if j.Status == "RUNNING" && j.Attempt > after && allRunning(j) {
			return j
		}
		if time.Now().After(deadline) {
			b, _ := json.MarshalIndent(j, "", "  ")
			t.Fatalf("job %s never ran again after attempt %d:\n%s\n%s", id, after, b, s.logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func allRunning(j *client.Job) bool {
	if j.Plan == nil {
		return false
	}
	for _, v := range j.Plan.Vertices {
		for _, st := range v.Subtasks {
			if st.Status != "RUNNING" {
				return false
			}
		}
	}
	return true
}

// workerOf returns a worker running a subtask of the job.
func workerOf(j *client.Job, not string) string {
	for _, v := range j.Plan.Vertices {
		for _, st := range v.Subtasks {
			if st.Worker != not {
				return st.Worker
			}
		}
	}
	return ""
}

func TestDistributedWorkerLoss(t *testing.T) {
	c := startCluster(t, 3, 2, "--heartbeat-timeout", "3s")
	c.setupOrders()
	s := c.control
	const n = 60000
	subjects, payloads := keyedOrders(0, n)
	s.publishTo(subjects[:n/3], payloads[:n/3])
	id := s.submit(distJob)
	j := waitAttempt(t, s, id, 0, time.Minute)
	s.waitCount("DOUT", 100, 2*time.Minute)

	// SIGKILL: the worker's session drops and the job restarts on the others.
	victim := workerOf(j, "")
	start := time.Now()
	c.workers[victim].kill()
	j = waitAttempt(t, s, id, j.Attempt, 2*time.Minute)
	t.Logf("SIGKILL of %s: RUNNING again (attempt %d) after %s", victim, j.Attempt, time.Since(start).Round(time.Millisecond))
	s.publishTo(subjects[n/3:2*n/3], payloads[n/3:2*n/3])

	// The worker comes back under its id and is used again.
	c.startWorker(victim, 2)
	c.waitWorkers(3)

	// SIGSTOP past the heartbeat timeout: the worker is lost; after SIGCONT its old
	// attempt's tasks are canceled and their data ignored.
	stopped := workerOf(j, victim)
	p := c.workers[stopped].cmd.Process
	require.NoError(t, p.Signal(syscall.SIGSTOP))
	start = time.Now()
	j = waitAttempt(t, s, id, j.Attempt, 2*time.Minute)
	t.Logf("SIGSTOP of %s: RUNNING again (attempt %d) after %s", stopped, j.Attempt, time.Since(start).Round(time.Millisecond))
	// Two workers are left, with two slots each, for three subtasks per vertex: the
	// worker that came back must be one of them.
	used := false
	for _, v := range j.Plan.Vertices {
		for _, st := range v.Subtasks {
			used = used || st.Worker == victim
			require.NotEqual(t, stopped, st.Worker, "a subtask was deployed to the stopped worker")
		}
	}
	require.True(t, used, "the worker %s that registered again runs nothing", victim)
	require.NoError(t, p.Signal(syscall.SIGCONT))
	c.waitWorkers(3) // it registers again
	attempt := j.Attempt
	s.publishTo(subjects[2*n/3:], payloads[2*n/3:])
	// At least once: every expected record arrives (duplicates may come first).
	want := expectedKeyed(0, n)
	var got, missing, extra []string
	deadline := time.Now().Add(3 * time.Minute)
	for {
		s.waitCount("DOUT", uint64(len(want)), 3*time.Minute)
		got = s.readAll("DOUT")
		if missing, extra = diff(want, got); len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d records never arrived, e.g. %v\n%s", len(missing), len(want), head(missing), c.logs())
		}
		time.Sleep(time.Second)
	}
	j = s.job(id)
	require.Equal(t, "RUNNING", j.Status, "the zombie disturbed the job: %s", j.Reason)
	require.Equal(t, attempt, j.Attempt, "the zombie's return restarted the job")
	t.Logf("%d records, %d duplicates after two failures", len(got), len(extra))
}

func TestDistributedBadInput(t *testing.T) {
	c := startCluster(t, 1, 2)
	bin := binPath(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"wrong control", []string{"worker", "--control", "127.0.0.1:1", "--nats", c.ns.ClientURL()}, "control plane at 127.0.0.1:1"},
		{"wrong nats", []string{"worker", "--control", c.control.grpcAddr, "--nats", "nats://127.0.0.1:1"}, "connecting to NATS at nats://127.0.0.1:1"},
		{"control wrong nats", []string{"control", "--nats", "nats://127.0.0.1:1", "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0"}, "connecting to NATS at nats://127.0.0.1:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, append(tc.args, "--data-dir", t.TempDir())...)
			start := time.Now()
			out, err := cmd.CombinedOutput()
			require.Error(t, err, "%s", out)
			require.NoError(t, ctx.Err(), "did not exit within 20s")
			require.Contains(t, string(out), tc.want)
			t.Logf("exited %v after %s: %s", err, time.Since(start).Round(time.Millisecond), strings.TrimSpace(string(out)))
		})
	}

	// A job that needs more slots than exist waits and says why.
	c.control.upload("orders", "orders_wat.wasm")
	c.control.stream("WIDE", "wide")
	id := c.control.submit(strings.Replace(ordersJob("wide", "orders", "WIDE", "wideout", 5), "parallelism: 5", "parallelism: 5\nmax_parallelism: 8", 1))
	require.Eventually(t, func() bool {
		j := c.control.job(id)
		return j.Status == "CREATED" && strings.Contains(j.Reason, "waiting for 5 free slots; 2 are free")
	}, 30*time.Second, 100*time.Millisecond)
	_ = os.Stdout
}

const burnJob = `name: burn
parallelism: 3
pipeline:
  - id: orders
    source:
      jetstream: { stream: DIST, subjects: ["dist.*"], partitions: { count: 3, token: 2 } }
  - id: by-user
    key_by: { json_field: user }
  - id: burn
    map: { module: burn, function: burn }
  - id: out
    sink:
      jetstream: { subject: dout }
`

// TestDistributedBackpressure runs a slow operator (real work per record) behind a
// hash exchange: the source must be held back by credit, never by loss.
func TestDistributedBackpressure(t *testing.T) {
	c := startCluster(t, 3, 2)
	c.setupOrders()
	s := c.control
	s.upload("burn", "testdata/burn.wasm")
	// Far more data than the exchange can hold in flight (about 8,000 of these
	// records at most, plus a heartbeat's worth of skew between the two counters).
	const n = 30000
	pad := strings.Repeat("p", 900)
	subjects, payloads := keyedOrders(0, n)
	for i := range payloads {
		payloads[i] = fmt.Appendf(payloads[i][:len(payloads[i])-1], `,"pad":"%s"}`, pad)
	}
	s.publishTo(subjects, payloads)
	id := s.submit(burnJob)
	sm := sampleJob(s, id)
	var maxLead int64
	var maxBackpressure float64
	for s.msgCount("DOUT") < n {
		j := s.job(id)
		require.NotEqual(t, "FAILED", j.Status, j.Reason)
		var read, burned int64
		for _, v := range j.Plan.Vertices {
			for _, st := range v.Subtasks {
				switch v.ID {
				case "orders":
					read += st.RecordsIn
					maxBackpressure = max(maxBackpressure, st.Backpressure)
				case "burn":
					burned += st.RecordsIn
				}
			}
		}
		maxLead = max(maxLead, read-burned)
		time.Sleep(200 * time.Millisecond)
	}
	sm.finish(t)
	want := make([]string, n)
	for i, p := range payloads {
		want[i] = string(p)
	}
	got := s.readAll("DOUT")
	missing, extra := diff(want, got)
	require.Empty(t, missing, "lost %d records", len(missing))
	require.Empty(t, extra, "%d duplicates", len(extra))
	require.Zero(t, c.ns.NumSlowConsumers(), "NATS saw a slow consumer")
	require.Positive(t, maxBackpressure, "the source never waited for credit")
	require.Less(t, maxLead, int64(n*2/3), "the source ran ahead of the slow operator by %d records: nothing held it back", maxLead)
	t.Logf("source backpressure up to %.2f; the source led the slow operator by at most %d records", maxBackpressure, maxLead)
}

// freeAddr returns a loopback address with a port nobody listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// TestDistributedControlRestart stops the control plane gracefully while a job
// runs on remote workers and starts it again on the same addresses: the workers
// register again by themselves, the job resumes where it stopped, and nothing is
// lost or duplicated.
// controlOnFixedAddresses returns a function that starts `weir control` on the
// same HTTP and gRPC addresses every time, as a restarted control plane would be.
func controlOnFixedAddresses(t *testing.T, dir, natsURL string) func() *standalone {
	grpcAddr, httpAddr := freeAddr(t), freeAddr(t)
	return func() *standalone {
		s := startWeir(t, "weir control ready", "control", "--nats", natsURL, "--http", httpAddr, "--grpc", grpcAddr,
			"--data-dir", filepath.Join(dir, "control"))
		s.connect()
		return s
	}
}

func TestDistributedControlRestart(t *testing.T) {
	dir := t.TempDir()
	ns, err := embednats.Start(embednats.Options{Dir: filepath.Join(dir, "nats"), Port: -1})
	require.NoError(t, err)
	defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
	startControl := controlOnFixedAddresses(t, dir, ns.ClientURL())
	c := &cluster{t: t, dir: dir, ns: ns, control: startControl(), workers: map[string]*standalone{}}
	for _, id := range []string{"w1", "w2"} {
		c.startWorker(id, 3)
	}
	c.waitWorkers(2)
	c.setupOrders()
	const n = 30000
	subjects, payloads := keyedOrders(0, n)
	c.control.publishTo(subjects[:n/2], payloads[:n/2])
	id := c.control.submit(distJob)
	c.control.waitStatus(id, "RUNNING", time.Minute)
	c.control.waitCount("DOUT", 100, 2*time.Minute)

	c.control.stop() // SIGTERM: jobs are suspended gracefully on the workers
	c.control = startControl()
	c.waitWorkers(2)
	j := waitAttempt(t, c.control, id, 0, 2*time.Minute)
	t.Logf("the job runs again as attempt %d after the control plane restarted", j.Attempt)
	c.control.publishTo(subjects[n/2:], payloads[n/2:])
	want := expectedKeyed(0, n)
	c.control.waitCount("DOUT", uint64(len(want)), 3*time.Minute)
	time.Sleep(time.Second) // anything extra would arrive now
	got := c.control.readAll("DOUT")
	assertExactly(t, want, got)
	checkPerKeyOrder(t, got)
}
