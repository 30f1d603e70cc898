package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/weir-streams/weir/control/checkpoint"
	"github.com/weir-streams/weir/internal/client"
	"github.com/weir-streams/weir/internal/embednats"
)

// countJob counts records per key with the Go counter example (a process UDF with
// a value state) and writes every count exactly once.
const countJob = `name: counts
parallelism: 3
checkpointing: { interval: 500ms }
restart: { strategy: fixed_delay, attempts: 100, delay: 200ms }
pipeline:
  - id: events
    source:
      jetstream: { stream: CNT, subjects: ["cnt.*"], partitions: { count: 3, token: 2 } }
  - id: by-key
    key_by: { json_field: key }
  - id: count
    process: { module: counter, function: count }
  - id: out
    sink: { jetstream: { subject: counts }, delivery: exactly_once }
`

// countEvents are records i in [from, to) of a stream of keys with per-key
// sequence numbers: key k(i % keys) gets its seq-th record at i = (seq-1)*keys + k,
// in partition k % 3, so the order of one key's records is defined.
func countEvents(from, to, keys int) (subjects []string, payloads [][]byte) {
	for i := from; i < to; i++ {
		k := i % keys
		subjects = append(subjects, fmt.Sprintf("cnt.%d", k%3))
		payloads = append(payloads, fmt.Appendf(nil, `{"key":"k%d","seq":%d}`, k, i/keys+1))
	}
	return subjects, payloads
}

// setupCounts uploads the counter module and makes the streams countJob reads
// (CNT, three partitions) and writes (COUT, with JetStream's default duplicate
// window of two minutes).
func (s *standalone) setupCounts() {
	s.t.Helper()
	s.upload("counter", "counter.wasm")
	_, err := s.js.CreateStream(context.Background(), jetstream.StreamConfig{Name: "CNT", Subjects: []string{"cnt.*"}, Storage: jetstream.FileStorage})
	require.NoError(s.t, err)
	s.stream("COUT", "counts")
}

// countOutput is one output of the counter.
type countOutput struct {
	Key     string `json:"key"`
	Seq     int    `json:"seq"`
	Count   int    `json:"count"`
	Attempt int    `json:"attempt"`
}

// checkCounts checks that the sink holds, for every key, exactly the counts
// 1..n of its n records — no gap, no repeat — and that each count is the
// record's sequence number, which only exactly-once state can give.
func checkCounts(t *testing.T, got []string, keys, n int) map[int]int {
	t.Helper()
	perKey := map[string][]countOutput{}
	attempts := map[int]int{}
	for _, p := range got {
		var o countOutput
		require.NoError(t, json.Unmarshal([]byte(p), &o), "output %q", p)
		perKey[o.Key] = append(perKey[o.Key], o)
		attempts[o.Attempt]++
	}
	require.Len(t, perKey, keys, "keys in the output")
	want := n / keys
	for k, outs := range perKey {
		sort.Slice(outs, func(i, j int) bool { return outs[i].Count < outs[j].Count })
		for i, o := range outs {
			if o.Count != i+1 || o.Seq != o.Count {
				t.Fatalf("key %s: output %d is count %d for seq %d; want count %d for seq %d (outputs around it: %v)", k, i, o.Count, o.Seq, i+1, i+1, outs[max(0, i-2):min(len(outs), i+3)])
			}
		}
		require.Len(t, outs, want, "key %s", k)
	}
	return attempts
}

func (c *cluster) checkpoints(id string) *client.CheckpointList {
	c.t.Helper()
	l, err := c.control.client.Checkpoints(context.Background(), id)
	require.NoError(c.t, err)
	return l
}

// waitCheckpoint waits until a checkpoint newer than after has completed.
func (c *cluster) waitCheckpoint(id string, after uint64, timeout time.Duration) uint64 {
	c.t.Helper()
	var latest uint64
	require.Eventually(c.t, func() bool {
		latest = c.checkpoints(id).Latest
		return latest > after
	}, timeout, 50*time.Millisecond, "no checkpoint after %d completed\n%s", after, c.logs())
	return latest
}

// sourceRecordsIn sums the records the source subtasks read in the current attempt.
func sourceRecordsIn(j *client.Job, source string) int64 {
	var n int64
	for _, v := range j.Plan.Vertices {
		if v.ID == source {
			for _, st := range v.Subtasks {
				n += st.RecordsIn
			}
		}
	}
	return n
}

func TestCheckpointExactlyOnceUnderFailures(t *testing.T) {
	c := startCluster(t, 3, 2, "--heartbeat-timeout", "3s")
	s := c.control
	s.setupCounts()

	const n, keys, stages = 200000, 1000, 4
	subjects, payloads := countEvents(0, n, keys)
	id := s.submit(countJob)
	j := waitAttempt(t, s, id, 0, time.Minute)
	var ckpt uint64
	for stage := range stages {
		from, to := stage*n/stages, (stage+1)*n/stages
		// The stage's records arrive over a few seconds, so that the kill
		// comes while they flow.
		published := make(chan struct{})
		go func() {
			defer close(published)
			for i := from; i < to; i += (to - from) / 20 {
				s.publishTo(subjects[i:i+(to-from)/20], payloads[i:i+(to-from)/20])
				time.Sleep(100 * time.Millisecond)
			}
		}()
		if stage == stages-1 {
			<-published
			break
		}
		// Kill a worker once a checkpoint has completed with part of this stage
		// behind it, while the rest may still be flowing.
		s.waitCount("COUT", uint64(from)+1, 2*time.Minute)
		ckpt = c.waitCheckpoint(id, ckpt, time.Minute)
		victim := workerOf(j, "")
		first := s.firstOutputOf("COUT", j.Attempt+1)
		start := time.Now()
		c.workers[victim].kill()
		j = waitAttempt(t, s, id, j.Attempt, 2*time.Minute)
		t.Logf("stage %d: killed %s after checkpoint %d; RUNNING again as attempt %d after %s", stage, victim, ckpt, j.Attempt, time.Since(start).Round(time.Millisecond))
		select {
		case at := <-first:
			t.Logf("stage %d: first output of attempt %d %s after the SIGKILL", stage, j.Attempt, at.Sub(start).Round(time.Millisecond))
		case <-time.After(time.Minute):
			t.Fatalf("attempt %d wrote no output within a minute", j.Attempt)
		}
		<-published
		c.startWorker(victim, 2)
		c.waitWorkers(3)

		// The attempt restored a checkpoint, and re-read only what came after it.
		l := c.checkpoints(id)
		require.NotEmpty(t, l.Restores)
		r := l.Restores[len(l.Restores)-1]
		require.GreaterOrEqual(t, r.Checkpoint, ckpt, "attempt %d restored checkpoint %d, older than %d, the one completed before the kill", j.Attempt, r.Checkpoint, ckpt)
		s.waitCount("COUT", uint64(to), 2*time.Minute)
		reread := sourceRecordsIn(s.job(id), "events")
		t.Logf("stage %d: attempt %d restored checkpoint %d and re-read %d records of the %d published so far", stage, j.Attempt, r.Checkpoint, reread, to)
		require.Less(t, reread, int64(to), "the restored attempt re-read everything: it did not start from the checkpoint's positions")
		ckpt = max(ckpt, r.Checkpoint)
	}
	s.waitCount("COUT", n, 3*time.Minute)
	// A late duplicate would come with the next checkpoints' commits: let a few pass.
	c.waitCheckpoint(id, c.waitCheckpoint(id, 0, time.Minute), time.Minute)
	got := s.readAll("COUT")
	attempts := checkCounts(t, got, keys, n)
	t.Logf("%d counts, exactly once, from attempts %v", len(got), attempts)
}

// TestCheckpointFailpoints fails the job once in each of four places, one per
// execution attempt: inside the UDF, inside a snapshot's synchronous part, inside
// its upload, and between a checkpoint's commit and its notification. Each
// failpoint fires only in its attempt, after that attempt completed a checkpoint,
// so every recovery restores one; the counts stay exact.
func TestCheckpointFailpoints(t *testing.T) {
	dir := t.TempDir()
	s := startWeirEnv(t, []string{"WEIR_FAILPOINTS=udf@1,snapshot@2,upload@3,after-commit@4"}, "weir standalone ready",
		"standalone", "--data-dir", dir, "--http", "127.0.0.1:0", "--nats-port", "0")
	s.dataDir = dir
	s.connect()
	s.setupCounts()
	ctx := context.Background()

	const n, keys = 200000, 500
	subjects, payloads := countEvents(0, n, keys)
	// A backlog, then records flowing all along, so that every attempt has
	// records to process and checkpoint (the UDF failpoint needs a batch).
	s.publishTo(subjects[:n/4], payloads[:n/4])
	id := s.submit(countJob)
	c := &cluster{t: t, control: s}
	published := make(chan struct{})
	go func() {
		defer close(published)
		for i := n / 4; i < n; i += n / 200 {
			s.publishTo(subjects[i:i+n/200], payloads[i:i+n/200])
			time.Sleep(50 * time.Millisecond)
		}
	}()
	const failures = 4
	j := waitAttempt(t, s, id, failures, 3*time.Minute)
	t.Logf("attempt %d runs after %d failures", j.Attempt, failures)
	<-published
	s.waitCount("COUT", n, 3*time.Minute)
	c.waitCheckpoint(id, c.waitCheckpoint(id, 0, time.Minute), time.Minute)
	l := c.checkpoints(id)
	for _, r := range l.Restores {
		if r.Attempt > 1 {
			require.GreaterOrEqual(t, r.Checkpoint, uint64(1), "attempt %d restored no checkpoint", r.Attempt)
		}
	}
	ex, err := s.client.JobExceptions(ctx, id)
	require.NoError(t, err)
	fired := map[string]bool{}
	for _, e := range ex.Exceptions {
		for _, name := range []string{"udf", "snapshot", "upload", "after-commit"} {
			if strings.Contains(e.Message, "failpoint "+name+" fired") {
				fired[name] = true
			}
		}
	}
	require.Len(t, fired, failures, "failpoints that fired: %v; exceptions: %s", fired, ex.Raw)
	got := s.readAll("COUT")
	attempts := checkCounts(t, got, keys, n)
	t.Logf("%d counts, exactly once, from attempts %v", len(got), attempts)
	require.GreaterOrEqual(t, len(attempts), 3, "too few attempts committed counts: the failures came before any progress")
}

// TestCheckpointCorruptFallsBack corrupts a file only the latest checkpoint has:
// the restore detects it, falls back to the previous checkpoint, and says so in
// the job's exceptions.
func TestCheckpointCorruptFallsBack(t *testing.T) {
	dir := t.TempDir()
	ns, err := embednats.Start(embednats.Options{Dir: filepath.Join(dir, "nats"), Port: -1})
	require.NoError(t, err)
	defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
	startControl := controlOnFixedAddresses(t, dir, ns.ClientURL())
	c := &cluster{t: t, dir: dir, ns: ns, control: startControl(), workers: map[string]*standalone{}}
	c.startWorker("w1", 3)
	c.waitWorkers(1)
	s := c.control
	s.setupCounts()
	ctx := context.Background()
	const n, keys = 40000, 200
	subjects, payloads := countEvents(0, n, keys)
	job := strings.Replace(countJob, "interval: 500ms", "interval: 300ms, retain: 3", 1)
	job = strings.Replace(job, "delivery: exactly_once", "delivery: at_least_once", 1)
	id := s.submit(job)
	s.waitStatus(id, "RUNNING", time.Minute)
	s.publishTo(subjects[:n/4], payloads[:n/4])
	s.waitCount("COUT", n/4, 2*time.Minute)
	// Records flow while checkpoints complete, so that each has files of its own.
	pubConn, err := nats.Connect(ns.ClientURL())
	require.NoError(t, err)
	defer pubConn.Close()
	pub := &standalone{t: t, nc: pubConn}
	published := make(chan struct{})
	go func() {
		defer close(published)
		for i := n / 4; i < n/2; i += n / 40 {
			pub.publishTo(subjects[i:i+n/40], payloads[i:i+n/40])
			time.Sleep(100 * time.Millisecond)
		}
	}()
	c.waitCheckpoint(id, c.waitCheckpoint(id, 2, time.Minute), time.Minute)

	// With the control plane stopped no checkpoint completes: corrupt a file that
	// only the latest one references.
	s.stop()
	<-published
	nc, err := nats.Connect(ns.ClientURL())
	require.NoError(t, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	store := checkpointStore(t, js)
	retained, err := store.List(ctx, id)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(retained), 2)
	latest, prev := retained[len(retained)-1], retained[len(retained)-2]
	older := map[string]bool{}
	for _, o := range prev.Objects() {
		older[o] = true
	}
	var victim string
	for _, o := range latest.Objects() {
		if !older[o] && strings.HasSuffix(o, ".sst") {
			victim = o
		}
	}
	require.NotEmpty(t, victim, "checkpoint %d has no file of its own", latest.ID)
	obj, err := js.ObjectStore(ctx, "WEIR_STATE")
	require.NoError(t, err)
	b, err := obj.GetBytes(ctx, victim)
	require.NoError(t, err)
	b[len(b)/2] ^= 0xff
	_, err = obj.PutBytes(ctx, victim, b)
	require.NoError(t, err)

	c.control = startControl()
	s = c.control
	c.waitWorkers(1)
	j := waitAttempt(t, s, id, 1, 2*time.Minute)
	ex, err := s.client.JobExceptions(ctx, id)
	require.NoError(t, err)
	want := fmt.Sprintf("checkpoint %d cannot be restored", latest.ID)
	require.Contains(t, string(ex.Raw), want)
	require.Contains(t, string(ex.Raw), fmt.Sprintf("recovery falls back to checkpoint %d", prev.ID))
	l := c.checkpoints(id)
	require.Equal(t, prev.ID, l.Restores[len(l.Restores)-1].Checkpoint, "attempt %d", j.Attempt)

	// At least once from the previous checkpoint: every count arrives.
	s.publishTo(subjects[n/2:], payloads[n/2:])
	require.Eventually(t, func() bool {
		seen := map[string]map[int]bool{}
		for _, p := range s.readAll("COUT") {
			var o countOutput
			require.NoError(t, json.Unmarshal([]byte(p), &o))
			if seen[o.Key] == nil {
				seen[o.Key] = map[int]bool{}
			}
			seen[o.Key][o.Count] = true
		}
		for k := range keys {
			m := seen[fmt.Sprintf("k%d", k)]
			for c := 1; c <= n/keys; c++ {
				if !m[c] {
					return false
				}
			}
		}
		return true
	}, 3*time.Minute, time.Second, "some counts never arrived")
}

// checkpointStore reads the checkpoint metadata the control plane committed.
func checkpointStore(t *testing.T, js jetstream.JetStream) checkpoint.Store {
	t.Helper()
	ctx := context.Background()
	kv, err := js.KeyValue(ctx, "WEIR_META")
	require.NoError(t, err)
	obj, err := js.ObjectStore(ctx, "WEIR_STATE")
	require.NoError(t, err)
	return checkpoint.Store{KV: kv, Obj: obj}
}

// postJSON posts body to the control plane's API and decodes the reply into out.
func postJSON(t *testing.T, s *standalone, path, body string, out any) int {
	t.Helper()
	resp, err := http.Post(s.httpURL+"/api/v1"+path, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if out != nil && resp.StatusCode < 300 {
		require.NoError(t, json.Unmarshal(b, out), "%s", b)
	}
	if resp.StatusCode >= 300 {
		t.Logf("POST %s: %d %s", path, resp.StatusCode, b)
	}
	return resp.StatusCode
}

// savepointStatus reads GET /savepoints/{id}.
func savepointStatus(t *testing.T, s *standalone, id string) (status string, raw []byte) {
	t.Helper()
	resp, err := http.Get(s.httpURL + "/api/v1/savepoints/" + id)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err = io.ReadAll(resp.Body)
	require.NoError(t, err)
	var v struct {
		Status string `json:"status"`
	}
	require.NoError(t, json.Unmarshal(raw, &v), "%s", raw)
	return v.Status, raw
}

// parallelismOf returns the parallelism of vertex v in the job's plan.
func parallelismOf(j *client.Job, v string) int {
	for _, x := range j.Plan.Vertices {
		if x.ID == v {
			return x.Parallelism
		}
	}
	return 0
}

// TestSavepointStopResumeRescale runs the keyed count under load through a stop
// with savepoint at parallelism 2, a resume from it at parallelism 1 and a rescale
// to 3: every key's counts stay exact, as in a run without any of it.
func TestSavepointStopResumeRescale(t *testing.T) {
	s := startStandalone(t, t.TempDir())
	s.setupCounts()
	const n, keys = 90000, 300
	subjects, payloads := countEvents(0, n, keys)
	job := strings.Replace(countJob, "parallelism: 3", "parallelism: 2", 1)

	// Load flows all along: the publisher feeds the stream in slices.
	published := make(chan struct{})
	go func() {
		defer close(published)
		for i := 0; i < n; i += n / 30 {
			s.publishTo(subjects[i:i+n/30], payloads[i:i+n/30])
			time.Sleep(200 * time.Millisecond)
		}
	}()

	id := s.submit(job)
	j := s.waitStatus(id, "RUNNING", time.Minute)
	require.Equal(t, 2, parallelismOf(j, "count"))
	s.waitCount("COUT", n/10, 2*time.Minute)

	// Stop with a savepoint: the job ends FINISHED.
	var stop struct{ Savepoint string }
	require.Equal(t, 202, postJSON(t, s, "/jobs/"+id+"/stop", `{"savepoint": true}`, &stop))
	j = s.waitStatus(id, "FINISHED", time.Minute)
	st, raw := savepointStatus(t, s, stop.Savepoint)
	require.Equal(t, "COMPLETED", st, "%s", raw)
	t.Logf("stopped with savepoint %s: %s", stop.Savepoint, raw)
	// The FINISHED job's checkpoints are gone; its savepoint stays.
	require.Zero(t, countObjects(t, s.js, "state/"+id+"/"), "checkpoint files left after the job finished")
	require.NotZero(t, countObjects(t, s.js, "savepoints/"+id+"/"), "the savepoint has no files")

	// Resume from it at parallelism 1.
	resumed := strings.Replace(job, "parallelism: 2", "parallelism: 1\nfrom_savepoint: "+stop.Savepoint, 1)
	id2 := s.submit(resumed)
	j = s.waitStatus(id2, "RUNNING", time.Minute)
	require.Equal(t, 1, parallelismOf(j, "count"))
	s.waitCount("COUT", n/2, 2*time.Minute)

	// Rescale to 3 through the API.
	var rs struct{ Savepoint string }
	require.Equal(t, 202, postJSON(t, s, "/jobs/"+id2+"/rescale", `{"parallelism": 3}`, &rs))
	j = waitAttempt(t, s, id2, j.Attempt, 2*time.Minute)
	require.Equal(t, 3, parallelismOf(j, "count"))
	t.Logf("rescaled to 3 from savepoint %s (attempt %d)", rs.Savepoint, j.Attempt)

	<-published
	s.waitCount("COUT", n, 3*time.Minute)
	c := &cluster{t: t, control: s}
	c.waitCheckpoint(id2, c.waitCheckpoint(id2, 0, time.Minute), time.Minute)
	got := s.readAll("COUT")
	attempts := checkCounts(t, got, keys, n)
	t.Logf("%d counts, exactly once, from attempts %v", len(got), attempts)

	// Bad requests are 4xx naming the problem.
	require.Equal(t, 400, postJSON(t, s, "/jobs/"+id2+"/rescale", `{"parallelism": 1000}`, nil))
	require.Equal(t, 400, postJSON(t, s, "/jobs/"+id2+"/rescale", `{"steps": {"nope": 2}}`, nil))
	require.Equal(t, 409, postJSON(t, s, "/jobs/"+id+"/savepoints", ``, nil), "a FINISHED job takes no savepoint")
}

// TestCheckpointSinkExactlyOnceAfterWorkerLoss runs the stateless orders job with
// checkpoints and an exactly-once sink across a worker's SIGKILL: the sink holds
// every expected record once, in order per key.
func TestCheckpointSinkExactlyOnceAfterWorkerLoss(t *testing.T) {
	c := startCluster(t, 3, 2, "--heartbeat-timeout", "3s")
	c.setupOrders()
	s := c.control
	const n = 60000
	subjects, payloads := keyedOrders(0, n)
	s.publishTo(subjects[:n/2], payloads[:n/2])
	job := strings.Replace(distJob, "restart:", "checkpointing: { interval: 300ms }\nrestart:", 1)
	job = strings.Replace(job, "jetstream: { subject: dout }", "jetstream: { subject: dout }\n      delivery: exactly_once", 1)
	id := s.submit(job)
	j := waitAttempt(t, s, id, 0, time.Minute)
	s.waitCount("DOUT", 100, 2*time.Minute)
	ckpt := c.waitCheckpoint(id, 0, time.Minute)
	victim := workerOf(j, "")
	c.workers[victim].kill()
	j = waitAttempt(t, s, id, j.Attempt, 2*time.Minute)
	l := c.checkpoints(id)
	r := l.Restores[len(l.Restores)-1]
	require.GreaterOrEqual(t, r.Checkpoint, ckpt)
	t.Logf("killed %s after checkpoint %d; attempt %d restored checkpoint %d", victim, ckpt, j.Attempt, r.Checkpoint)
	s.publishTo(subjects[n/2:], payloads[n/2:])
	want := expectedKeyed(0, n)
	s.waitCount("DOUT", uint64(len(want)), 3*time.Minute)
	c.waitCheckpoint(id, c.waitCheckpoint(id, 0, time.Minute), time.Minute)
	got := s.readAll("DOUT")
	assertExactly(t, want, got)
	checkPerKeyOrder(t, got)
}

// countObjects counts the checkpoint and savepoint files whose names start with prefix.
func countObjects(t *testing.T, js jetstream.JetStream, prefix string) int {
	t.Helper()
	ctx := context.Background()
	obj, err := js.ObjectStore(ctx, "WEIR_STATE")
	require.NoError(t, err)
	list, err := obj.List(ctx)
	if errors.Is(err, jetstream.ErrNoObjectsFound) {
		return 0
	}
	require.NoError(t, err)
	n := 0
	for _, o := range list {
		if strings.HasPrefix(o.Name, prefix) {
			n++
		}
	}
	return n
}

// firstOutputOf reports when the first count written by attempt (or a later one)
// arrives on stream, watching only messages stored from now on.
func (s *standalone) firstOutputOf(stream string, attempt uint64) <-chan time.Time {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	st, err := s.js.Stream(ctx, stream)
	require.NoError(s.t, err)
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverNewPolicy})
	require.NoError(s.t, err)
	it, err := cons.Messages()
	require.NoError(s.t, err)
	out := make(chan time.Time, 1)
	go func() {
		defer cancel()
		defer it.Stop()
		for {
			m, err := it.Next()
			if err != nil {
				return
			}
			var o countOutput
			if json.Unmarshal(m.Data(), &o) == nil && uint64(o.Attempt) >= attempt {
				out <- time.Now()
				return
			}
		}
	}()
	go func() { <-ctx.Done(); it.Stop() }()
	return out
}

// TestResumeFromRetainedCheckpoint cancels a job that retains its checkpoints on
// cancel and starts a new job from its latest one: the counts go on exactly.
func TestResumeFromRetainedCheckpoint(t *testing.T) {
	s := startStandalone(t, t.TempDir())
	s.setupCounts()
	ctx := context.Background()
	const n, keys = 40000, 200
	subjects, payloads := countEvents(0, n, keys)
	job := strings.Replace(countJob, "interval: 500ms", "interval: 300ms, retain_on_cancel: true", 1)
	s.publishTo(subjects[:n/2], payloads[:n/2])
	id := s.submit(job)
	s.waitStatus(id, "RUNNING", time.Minute)
	s.waitCount("COUT", n/4, 2*time.Minute)
	c := &cluster{t: t, control: s}
	latest := c.waitCheckpoint(id, 0, time.Minute)
	_, err := s.client.CancelJob(ctx, id)
	require.NoError(t, err)
	s.waitStatus(id, "CANCELED", time.Minute)
	latest = max(latest, c.checkpoints(id).Latest)
	require.NotZero(t, countObjects(t, s.js, "state/"+id+"/"), "retain_on_cancel kept no files")

	// A bad reference is a 4xx naming it.
	_, err = s.client.SubmitJob(ctx, []byte(strings.Replace(job, "pipeline:", fmt.Sprintf("from_savepoint: %s/%d\npipeline:", id, latest+1000), 1)), false)
	var ae *client.APIError
	require.ErrorAs(t, err, &ae)
	require.Contains(t, ae.Message, fmt.Sprintf("has no retained checkpoint %d", latest+1000))

	id2 := s.submit(strings.Replace(job, "pipeline:", fmt.Sprintf("from_savepoint: %s/%d\npipeline:", id, latest), 1))
	s.waitStatus(id2, "RUNNING", time.Minute)
	l := c.checkpoints(id2)
	require.Equal(t, latest, l.Restores[len(l.Restores)-1].Checkpoint)
	s.publishTo(subjects[n/2:], payloads[n/2:])
	s.waitCount("COUT", n, 2*time.Minute)
	c.waitCheckpoint(id2, c.waitCheckpoint(id2, 0, time.Minute), time.Minute)
	got := s.readAll("COUT")
	attempts := checkCounts(t, got, keys, n)
	t.Logf("%d counts, exactly once across a cancel and a resume from checkpoint %d, from attempts %v", len(got), latest, attempts)
}
