package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeSavepoints is a hand-written stand-in for the checkpoint and savepoint
// endpoints. Job j-1 gets savepoint sp-ok, which is IN_PROGRESS for two polls and
// then COMPLETED; j-3 gets sp-bad, IN_PROGRESS once and then FAILED; j-4 gets
// sp-slow, which never ends; j-2 is not RUNNING.
type fakeSavepoints struct {
	mu     sync.Mutex
	polls  map[string]int    // savepoint id -> GETs so far
	bodies map[string]string // "METHOD path" -> the last request body
}

func newSavepointFake(t *testing.T) (*fakeSavepoints, string) {
	f := &fakeSavepoints{polls: map[string]int{}, bodies: map[string]string{}}
	keep := func(r *http.Request) []byte {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.bodies[r.Method+" "+r.URL.Path] = string(b)
		f.mu.Unlock()
		return b
	}
	// accepted replies {key: the job's savepoint}, or 409 for a job that is not running.
	accepted := func(w http.ResponseWriter, job, key string) {
		sp := map[string]string{"j-1": "sp-ok", "j-3": "sp-bad", "j-4": "sp-slow"}[job]
		if sp == "" {
			replyError(w, 409, fmt.Sprintf("job %s is not RUNNING (status FINISHED)", job))
			return
		}
		replyJSON(w, 202, fmt.Sprintf(`{%q:%q}`, key, sp))
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/jobs/{id}/savepoints", func(w http.ResponseWriter, r *http.Request) {
		keep(r)
		accepted(w, r.PathValue("id"), "id")
	})
	mux.HandleFunc("POST /api/v1/jobs/{id}/stop", func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Savepoint, Drain bool }
		if err := json.Unmarshal(keep(r), &req); err != nil || !req.Savepoint || req.Drain {
			replyJSON(w, 400, `{"error":"bad stop request","field":"savepoint"}`)
			return
		}
		accepted(w, r.PathValue("id"), "savepoint")
	})
	mux.HandleFunc("POST /api/v1/jobs/{id}/rescale", func(w http.ResponseWriter, r *http.Request) {
		keep(r)
		accepted(w, r.PathValue("id"), "savepoint")
	})
	mux.HandleFunc("GET /api/v1/savepoints/{id}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		f.mu.Lock()
		f.polls[id]++
		n := f.polls[id]
		f.mu.Unlock()
		const head = `"job_id":"j-1","job_name":"clicks-per-user","created":"2025-03-01T12:00:00Z"`
		switch {
		case id == "sp-ok" && n > 2:
			replyJSON(w, 200, `{"id":"sp-ok",`+head+`,"status":"COMPLETED","completed":"2025-03-01T12:00:03Z","size":5120,"checkpoint":7}`)
		case id == "sp-bad" && n > 1:
			replyJSON(w, 200, `{"id":"sp-bad",`+head+`,"status":"FAILED","size":0,"error":"uploading state: object store full"}`)
		case id == "sp-ok" || id == "sp-bad" || id == "sp-slow":
			replyJSON(w, 200, fmt.Sprintf(`{"id":%q,`+head+`,"status":"IN_PROGRESS","size":0}`, id))
		default:
			replyError(w, 404, fmt.Sprintf("savepoint %s not found", id))
		}
	})
	mux.HandleFunc("GET /api/v1/savepoints", func(w http.ResponseWriter, r *http.Request) {
		replyJSON(w, 200, `{"savepoints":[`+
			`{"id":"sp-old","job_id":"j-1","job_name":"clicks-per-user","status":"COMPLETED","created":"2025-03-01T12:00:00Z","completed":"2025-03-01T12:00:02Z","size":2097152,"checkpoint":4},`+
			`{"id":"sp-run","job_id":"j-1","job_name":"clicks-per-user","status":"IN_PROGRESS","created":"2025-03-03T12:00:00Z","size":0},`+
			`{"id":"sp-bad","job_id":"j-2","job_name":"sessions","status":"FAILED","created":"2025-03-02T12:00:00Z","size":0,"error":"uploading state: object store full\nmore"}]}`)
	})
	mux.HandleFunc("DELETE /api/v1/savepoints/{id}", func(w http.ResponseWriter, r *http.Request) {
		switch id := r.PathValue("id"); id {
		case "sp-run":
			replyError(w, 409, "savepoint sp-run is in progress")
		case "sp-old":
			w.WriteHeader(204)
		default:
			replyError(w, 404, fmt.Sprintf("savepoint %s not found", id))
		}
	})
	mux.HandleFunc("GET /api/v1/jobs/{id}/checkpoints", func(w http.ResponseWriter, r *http.Request) {
		switch r.PathValue("id") {
		case "j-1":
			replyJSON(w, 200, `{"enabled":true,"latest":7,"counts":{"in_progress":1,"completed":6,"failed":1,"aborted":0,"restored":2},"checkpoints":[`+
				`{"id":6,"status":"FAILED","triggered":"2025-03-01T12:00:00Z","ended":"2025-03-01T12:00:10Z","duration_ms":10000,"size":0,"uploaded":0,"acked":1,"expected":2,"failure":"barrier timed out\nafter 10s"},`+
				`{"id":7,"savepoint":"sp-ok","status":"COMPLETED","triggered":"2025-03-01T12:01:00Z","ended":"2025-03-01T12:01:01Z","duration_ms":1250.4,"size":5120,"uploaded":1024,"acked":2,"expected":2,`+
				`"subtasks":[{"task":"parse (1/2)","alignment_ms":1,"sync_ms":2,"async_ms":3,"size":2560}]},`+
				`{"id":8,"status":"IN_PROGRESS","triggered":"2025-03-01T12:02:00Z","duration_ms":0,"size":0,"uploaded":0,"acked":0,"expected":2}],`+
				`"restores":[{"attempt":1,"checkpoint":0,"at":"2025-03-01T11:59:00Z"},{"attempt":2,"checkpoint":5,"at":"2025-03-01T11:59:30Z"}]}`)
		case "j-2":
			replyJSON(w, 200, `{"enabled":false,"latest":0,"counts":{"in_progress":0,"completed":0,"failed":0,"aborted":0,"restored":0},"checkpoints":[],"restores":[]}`)
		case "j-5":
			replyJSON(w, 200, `{"enabled":true,"latest":0,"counts":{"in_progress":0,"completed":0,"failed":0,"aborted":0,"restored":0},"checkpoints":[],"restores":[]}`)
		default:
			replyError(w, 404, fmt.Sprintf("job %q not found", r.PathValue("id")))
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func (f *fakeSavepoints) body(key string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bodies[key]
}

// fastPolls makes --wait poll every millisecond for the rest of the test.
func fastPolls(t *testing.T) {
	old := savepointPollInterval
	savepointPollInterval = time.Millisecond
	t.Cleanup(func() { savepointPollInterval = old })
}

func TestJobSavepoint(t *testing.T) {
	fastPolls(t)
	f, url := newSavepointFake(t)

	stdout, stderr, code := runWeir(t, url, "", "job", "savepoint", "j-1")
	assert.Equal(t, 0, code)
	assert.Empty(t, stderr)
	assert.Equal(t, "Triggered savepoint sp-ok for job j-1\n", stdout)
	assert.Empty(t, f.body("POST /api/v1/jobs/j-1/savepoints"), "a trigger has no body")

	stdout, stderr, code = runWeir(t, url, "", "job", "savepoint", "j-1", "-o", "json")
	assert.Equal(t, 0, code)
	assert.Empty(t, stderr)
	assert.Equal(t, "{\n  \"id\": \"sp-ok\"\n}\n", stdout)

	stdout, stderr, code = runWeir(t, url, "", "job", "savepoint", "j-2")
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Equal(t, "weir: job j-2 is not RUNNING (status FINISHED)\n", stderr)
}

func TestJobSavepointWait(t *testing.T) {
	fastPolls(t)
	f, url := newSavepointFake(t)

	stdout, stderr, code := runWeir(t, url, "", "job", "savepoint", "j-1", "--wait")
	assert.Equal(t, 0, code)
	assert.Empty(t, stderr)
	assert.Equal(t, ""+
		"Triggered savepoint sp-ok for job j-1\n"+
		"Savepoint sp-ok completed: 5.0 KiB, checkpoint 7\n", stdout)
	f.mu.Lock()
	assert.Equal(t, 3, f.polls["sp-ok"], "polled until COMPLETED, then no more")
	f.mu.Unlock()

	stdout, stderr, code = runWeir(t, url, "", "job", "savepoint", "j-3", "--wait")
	assert.Equal(t, 1, code)
	assert.Equal(t, "Triggered savepoint sp-bad for job j-3\n", stdout)
	assert.Equal(t, "weir: savepoint sp-bad failed: uploading state: object store full\n", stderr)

	stdout, stderr, code = runWeir(t, url, "", "job", "savepoint", "j-4", "--wait", "--timeout", "300ms")
	assert.Equal(t, 1, code)
	assert.Equal(t, "Triggered savepoint sp-slow for job j-4\n", stdout)
	assert.Equal(t, "weir: gave up waiting for savepoint sp-slow after 300ms: it is IN_PROGRESS; 'weir savepoint get sp-slow' shows how it ends\n", stderr)
}

func TestJobSavepointWaitJSON(t *testing.T) {
	fastPolls(t)
	_, url := newSavepointFake(t)

	// With --wait, -o json prints only the savepoint as it ended: one JSON document.
	stdout, stderr, code := runWeir(t, url, "", "job", "savepoint", "j-1", "--wait", "-o", "json")
	assert.Equal(t, 0, code)
	assert.Empty(t, stderr)
	var sp map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &sp), stdout)
	assert.Equal(t, "COMPLETED", sp["status"])
	assert.Equal(t, 7.0, sp["checkpoint"])

	stdout, stderr, code = runWeir(t, url, "", "job", "savepoint", "j-3", "--wait", "-o", "json")
	assert.Equal(t, 1, code)
	require.NoError(t, json.Unmarshal([]byte(stdout), &sp), stdout)
	assert.Equal(t, "FAILED", sp["status"])
	assert.Equal(t, "weir: savepoint sp-bad failed: uploading state: object store full\n", stderr)
}

func TestJobStop(t *testing.T) {
	fastPolls(t)
	f, url := newSavepointFake(t)

	stdout, stderr, code := runWeir(t, url, "", "job", "stop", "j-1", "--savepoint")
	assert.Equal(t, 0, code)
	assert.Empty(t, stderr)
	assert.Equal(t, "Stopping job j-1 with savepoint sp-ok\n", stdout)
	assert.JSONEq(t, `{"savepoint": true, "drain": false}`, f.body("POST /api/v1/jobs/j-1/stop"))

	stdout, stderr, code = runWeir(t, url, "", "job", "stop", "j-1", "--savepoint", "-o", "json")
	assert.Equal(t, 0, code)
	assert.Empty(t, stderr)
	assert.Equal(t, "{\n  \"savepoint\": \"sp-ok\"\n}\n", stdout)

	stdout, stderr, code = runWeir(t, url, "", "job", "stop", "j-1", "--savepoint", "--wait")
	assert.Equal(t, 0, code)
	assert.Empty(t, stderr)
	assert.Equal(t, ""+
		"Stopping job j-1 with savepoint sp-ok\n"+
		"Savepoint sp-ok completed: 5.0 KiB, checkpoint 7\n", stdout)

	stdout, stderr, code = runWeir(t, url, "", "job", "stop", "j-3", "--savepoint", "--wait")
	assert.Equal(t, 1, code)
	assert.Equal(t, "Stopping job j-3 with savepoint sp-bad\n", stdout)
	assert.Equal(t, "weir: savepoint sp-bad failed: uploading state: object store full\n", stderr)

	stdout, stderr, code = runWeir(t, url, "", "job", "stop", "j-2", "--savepoint")
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Equal(t, "weir: job j-2 is not RUNNING (status FINISHED)\n", stderr)
}

func TestJobRescale(t *testing.T) {
	fastPolls(t)
	f, url := newSavepointFake(t)

	stdout, stderr, code := runWeir(t, url, "", "job", "rescale", "j-1", "--parallelism", "8")
	assert.Equal(t, 0, code)
	assert.Empty(t, stderr)
	assert.Equal(t, "Rescaling job j-1 through savepoint sp-ok\n", stdout)
	assert.JSONEq(t, `{"parallelism": 8}`, f.body("POST /api/v1/jobs/j-1/rescale"))

	stdout, stderr, code = runWeir(t, url, "", "job", "rescale", "j-1", "--step", "parse=4", "--step", "counts=2", "-o", "json")
	assert.Equal(t, 0, code)
	assert.Empty(t, stderr)
	assert.Equal(t, "{\n  \"savepoint\": \"sp-ok\"\n}\n", stdout)
	assert.JSONEq(t, `{"steps": {"parse": 4, "counts": 2}}`, f.body("POST /api/v1/jobs/j-1/rescale"))

	stdout, stderr, code = runWeir(t, url, "", "job", "rescale", "j-1", "--parallelism", "2", "--wait")
	assert.Equal(t, 0, code)
	assert.Empty(t, stderr)
	assert.Equal(t, ""+
		"Rescaling job j-1 through savepoint sp-ok\n"+
		"Savepoint sp-ok completed: 5.0 KiB, checkpoint 7\n", stdout)

	stdout, stderr, code = runWeir(t, url, "", "job", "rescale", "j-3", "--parallelism", "2", "--wait")
	assert.Equal(t, 1, code)
	assert.Equal(t, "Rescaling job j-3 through savepoint sp-bad\n", stdout)
	assert.Equal(t, "weir: savepoint sp-bad failed: uploading state: object store full\n", stderr)

	stdout, stderr, code = runWeir(t, url, "", "job", "rescale", "j-2", "--parallelism", "2")
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Equal(t, "weir: job j-2 is not RUNNING (status FINISHED)\n", stderr)
}

func TestJobCheckpoints(t *testing.T) {
	_, url := newSavepointFake(t)

	stdout, stderr, code := runWeir(t, url, "", "job", "checkpoints", "j-1")
	assert.Equal(t, 0, code)
	assert.Empty(t, stderr)
	assert.Equal(t, ""+
		"Latest:  7\n"+
		"Totals:  6 completed, 1 in progress, 1 failed, 0 aborted, 2 restored\n"+
		"\n"+
		"ID         STATUS       TRIGGERED             DURATION  SIZE     UPLOADED  ACKED/EXPECTED  FAILURE\n"+
		"6          FAILED       2025-03-01T12:00:00Z  10s       0 B      0 B       1/2             barrier timed out ...\n"+
		"7 (sp-ok)  COMPLETED    2025-03-01T12:01:00Z  1.25s     5.0 KiB  1.0 KiB   2/2             \n"+
		"8          IN_PROGRESS  2025-03-01T12:02:00Z  -         0 B      0 B       0/2             \n"+
		"\n"+
		"Restores:\n"+
		"ATTEMPT  CHECKPOINT\n"+
		"1        -\n"+
		"2        5\n", stdout)

	stdout, stderr, code = runWeir(t, url, "", "job", "checkpoints", "j-1", "-o", "json")
	assert.Equal(t, 0, code)
	assert.Empty(t, stderr)
	var l struct {
		Counts      map[string]int
		Checkpoints []struct{ Subtasks []map[string]any }
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &l), stdout)
	assert.Equal(t, 2, l.Counts["restored"])
	require.Len(t, l.Checkpoints, 3)
	assert.Len(t, l.Checkpoints[1].Subtasks, 1, "-o json keeps what the table leaves out")
	assert.True(t, strings.HasPrefix(stdout, "{\n  \"enabled\": true,\n"), stdout)

	stdout, stderr, code = runWeir(t, url, "", "job", "checkpoints", "j-2")
	assert.Equal(t, 0, code)
	assert.Empty(t, stderr)
	assert.Equal(t, "Job j-2 takes no checkpoints.\n", stdout)

	stdout, stderr, code = runWeir(t, url, "", "job", "checkpoints", "j-5")
	assert.Equal(t, 0, code)
	assert.Empty(t, stderr)
	assert.Equal(t, ""+
		"Latest:  -\n"+
		"Totals:  0 completed, 0 in progress, 0 failed, 0 aborted, 0 restored\n"+
		"\n"+
		"No checkpoints.\n", stdout)

	stdout, stderr, code = runWeir(t, url, "", "job", "checkpoints", "j-9")
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Equal(t, "weir: job \"j-9\" not found\n", stderr)
}

func TestSavepointListGetRm(t *testing.T) {
	_, url := newSavepointFake(t)

	stdout, stderr, code := runWeir(t, url, "", "savepoint", "list")
	assert.Equal(t, 0, code)
	assert.Empty(t, stderr)
	assert.Equal(t, ""+
		"ID      JOB  NAME             STATUS       CREATED               SIZE     CHECKPOINT  ERROR\n"+
		"sp-run  j-1  clicks-per-user  IN_PROGRESS  2025-03-03T12:00:00Z  0 B      -           \n"+
		"sp-bad  j-2  sessions         FAILED       2025-03-02T12:00:00Z  0 B      -           uploading state: object store full ...\n"+
		"sp-old  j-1  clicks-per-user  COMPLETED    2025-03-01T12:00:00Z  2.0 MiB  4           \n", stdout)

	stdout, stderr, code = runWeir(t, url, "", "savepoint", "ls", "-o", "json")
	assert.Equal(t, 0, code)
	assert.Empty(t, stderr)
	assert.True(t, strings.HasPrefix(stdout, "{\n  \"savepoints\": [\n"), stdout)

	stdout, stderr, code = runWeir(t, url, "", "savepoint", "get", "sp-ok")
	assert.Equal(t, 0, code)
	assert.Empty(t, stderr)
	assert.Equal(t, ""+
		"ID:          sp-ok\n"+
		"Job:         j-1 (clicks-per-user)\n"+
		"Status:      IN_PROGRESS\n"+
		"Created:     2025-03-01T12:00:00Z\n"+
		"Completed:   -\n"+
		"Size:        0 B\n"+
		"Checkpoint:  -\n", stdout)

	// sp-bad fails from its second look on.
	runWeir(t, url, "", "savepoint", "get", "sp-bad")
	stdout, stderr, code = runWeir(t, url, "", "savepoint", "get", "sp-bad")
	assert.Equal(t, 0, code, "showing a failed savepoint is no failure")
	assert.Empty(t, stderr)
	assert.Equal(t, ""+
		"ID:          sp-bad\n"+
		"Job:         j-1 (clicks-per-user)\n"+
		"Status:      FAILED\n"+
		"Error:       uploading state: object store full\n"+
		"Created:     2025-03-01T12:00:00Z\n"+
		"Completed:   -\n"+
		"Size:        0 B\n"+
		"Checkpoint:  -\n", stdout)

	stdout, stderr, code = runWeir(t, url, "", "savepoint", "get", "sp-ok", "-o", "json")
	assert.Equal(t, 0, code)
	assert.Empty(t, stderr)
	var sp map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &sp), stdout)
	assert.Equal(t, "sp-ok", sp["id"])

	stdout, stderr, code = runWeir(t, url, "", "savepoint", "get", "sp-none")
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Equal(t, "weir: savepoint sp-none not found\n", stderr)

	stdout, stderr, code = runWeir(t, url, "", "savepoint", "rm", "sp-old")
	assert.Equal(t, 0, code)
	assert.Empty(t, stderr)
	assert.Equal(t, "Deleted savepoint sp-old\n", stdout)

	stdout, stderr, code = runWeir(t, url, "", "savepoint", "rm", "sp-old", "-o", "json")
	assert.Equal(t, 0, code)
	assert.Empty(t, stderr)
	assert.Empty(t, stdout, "a 204 has no JSON to show")

	stdout, stderr, code = runWeir(t, url, "", "savepoint", "rm", "sp-run")
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Equal(t, "weir: savepoint sp-run is in progress\n", stderr)
}

func TestSavepointUsageErrors(t *testing.T) {
	f, url := newSavepointFake(t)
	for _, tc := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"job", "savepoint"}, "weir: missing argument ID (see 'weir job savepoint --help')\n"},
		{[]string{"job", "savepoint", "j-1", "--timeout", "soon"}, "weir: invalid argument \"soon\" for \"--timeout\" flag: time: invalid duration \"soon\" (see 'weir job savepoint --help')\n"},
		{[]string{"job", "savepoint", "j-1", "--wait", "--timeout", "0s"}, "weir: --timeout must be positive, got 0s (see 'weir job savepoint --help')\n"},
		{[]string{"job", "stop", "j-1"}, "weir: stopping without a savepoint is a cancel: use 'weir job cancel j-1', or add --savepoint (see 'weir job stop --help')\n"},
		{[]string{"job", "stop", "j-1", "--wait"}, "weir: stopping without a savepoint is a cancel: use 'weir job cancel j-1', or add --savepoint (see 'weir job stop --help')\n"},
		{[]string{"job", "stop"}, "weir: missing argument ID (see 'weir job stop --help')\n"},
		{[]string{"job", "rescale", "j-1"}, "weir: give the new parallelism: --parallelism N, or --step STEP=N for each step to change (see 'weir job rescale --help')\n"},
		{[]string{"job", "rescale", "j-1", "--parallelism", "2", "--step", "parse=3"}, "weir: give --parallelism or --step, not both (see 'weir job rescale --help')\n"},
		{[]string{"job", "rescale", "j-1", "--parallelism", "0"}, "weir: --parallelism must be at least 1, got 0 (see 'weir job rescale --help')\n"},
		{[]string{"job", "rescale", "j-1", "--parallelism", "many"}, "weir: invalid argument \"many\" for \"--parallelism\" flag: strconv.ParseInt: parsing \"many\": invalid syntax (see 'weir job rescale --help')\n"},
		{[]string{"job", "rescale", "j-1", "--step", "parse"}, "weir: --step \"parse\": want STEP=N, a step id and its parallelism (see 'weir job rescale --help')\n"},
		{[]string{"job", "rescale", "j-1", "--step", "=3"}, "weir: --step \"=3\": want STEP=N, a step id and its parallelism (see 'weir job rescale --help')\n"},
		{[]string{"job", "rescale", "j-1", "--step", "parse=x"}, "weir: --step \"parse=x\": the parallelism must be a whole number of at least 1 (see 'weir job rescale --help')\n"},
		{[]string{"job", "rescale", "j-1", "--step", "parse=0"}, "weir: --step \"parse=0\": the parallelism must be a whole number of at least 1 (see 'weir job rescale --help')\n"},
		{[]string{"job", "rescale", "j-1", "--step", "parse=2", "--step", "parse=3"}, "weir: --step \"parse=3\": step parse is given twice (see 'weir job rescale --help')\n"},
		{[]string{"job", "checkpoints"}, "weir: missing argument ID (see 'weir job checkpoints --help')\n"},
		{[]string{"savepoint", "get"}, "weir: missing argument ID (see 'weir savepoint get --help')\n"},
		{[]string{"savepoint", "rm", "a", "b"}, "weir: unexpected argument \"b\" (see 'weir savepoint rm --help')\n"},
		{[]string{"savepoint", "list", "-o", "yaml"}, "weir: invalid argument \"yaml\" for \"-o, --output\" flag: must be table or json (see 'weir savepoint list --help')\n"},
		{[]string{"savepoint", "frobnicate"}, "weir: unknown command \"frobnicate\" for \"weir savepoint\" (see 'weir savepoint --help')\n"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			stdout, stderr, code := runWeir(t, url, "", tc.args...)
			assert.Equal(t, 2, code)
			assert.Empty(t, stdout)
			assert.Equal(t, tc.stderr, stderr)
		})
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	assert.Empty(t, f.bodies, "a usage error sends nothing")
}

func TestSavepointGroupWithoutSubcommandPrintsHelp(t *testing.T) {
	stdout, stderr, code := runWeir(t, "http://127.0.0.1:1", "", "savepoint")
	assert.Equal(t, 0, code)
	assert.Empty(t, stderr)
	assert.Contains(t, stdout, "rm")
	assert.Contains(t, stdout, "--output")
}
