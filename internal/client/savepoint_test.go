package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weir-streams/weir/internal/client"
)

// fakeSavepoints stands in for the savepoint and checkpoint endpoints: job j-1 is
// RUNNING with checkpoints, j-2 takes none; sp-1 is COMPLETED, sp-2 IN_PROGRESS.
type fakeSavepoints struct {
	mu     sync.Mutex
	bodies map[string]string // "METHOD path" -> the last request body
	types  map[string]string // "METHOD path" -> the last request's Content-Type
}

func newFakeSavepoints(t *testing.T) (*fakeSavepoints, *httptest.Server) {
	f := &fakeSavepoints{bodies: map[string]string{}, types: map[string]string{}}
	keep := func(r *http.Request) []byte {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.bodies[r.Method+" "+r.URL.Path] = string(b)
		f.types[r.Method+" "+r.URL.Path] = r.Header.Get("Content-Type")
		return b
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/jobs/{id}/savepoints", func(w http.ResponseWriter, r *http.Request) {
		keep(r)
		if r.PathValue("id") != "j-1" {
			replyErr(w, http.StatusConflict, fmt.Sprintf("job %s takes no checkpoints", r.PathValue("id")))
			return
		}
		reply(w, http.StatusAccepted, map[string]string{"id": "sp-3"})
	})
	mux.HandleFunc("POST /api/v1/jobs/{id}/stop", func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Savepoint, Drain bool }
		_ = json.Unmarshal(keep(r), &req)
		if !req.Savepoint {
			reply(w, http.StatusBadRequest, map[string]string{"error": "stop without a savepoint is a cancel", "field": "savepoint"})
			return
		}
		reply(w, http.StatusAccepted, map[string]string{"savepoint": "sp-4"})
	})
	mux.HandleFunc("POST /api/v1/jobs/{id}/rescale", func(w http.ResponseWriter, r *http.Request) {
		keep(r)
		reply(w, http.StatusAccepted, map[string]string{"savepoint": "sp-5"})
	})
	sp1 := map[string]any{"id": "sp-1", "job_id": "j-1", "job_name": "clicks", "status": "COMPLETED",
		"created": t0.Format(time.RFC3339), "completed": t0.Add(2 * time.Second).Format(time.RFC3339), "size": 4096, "checkpoint": 7}
	sp2 := map[string]any{"id": "sp-2", "job_id": "j-1", "job_name": "clicks", "status": "IN_PROGRESS",
		"created": t0.Add(time.Minute).Format(time.RFC3339), "size": 0}
	mux.HandleFunc("GET /api/v1/savepoints", func(w http.ResponseWriter, _ *http.Request) {
		reply(w, http.StatusOK, map[string]any{"savepoints": []any{sp1, sp2}})
	})
	mux.HandleFunc("GET /api/v1/savepoints/{id}", func(w http.ResponseWriter, r *http.Request) {
		switch r.PathValue("id") {
		case "sp-1":
			reply(w, http.StatusOK, sp1)
		case "sp-2":
			reply(w, http.StatusOK, sp2)
		default:
			replyErr(w, http.StatusNotFound, "savepoint "+r.PathValue("id")+" not found")
		}
	})
	mux.HandleFunc("DELETE /api/v1/savepoints/{id}", func(w http.ResponseWriter, r *http.Request) {
		switch r.PathValue("id") {
		case "sp-1":
			w.WriteHeader(http.StatusNoContent)
		case "sp-2":
			replyErr(w, http.StatusConflict, "savepoint sp-2 is in progress")
		default:
			replyErr(w, http.StatusNotFound, "savepoint "+r.PathValue("id")+" not found")
		}
	})
	mux.HandleFunc("GET /api/v1/jobs/{id}/checkpoints", func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, `{"enabled":true,"latest":7,"counts":{"in_progress":1,"completed":6,"failed":2,"aborted":1,"restored":1},`+
			`"checkpoints":[{"id":7,"savepoint":"sp-1","status":"COMPLETED","triggered":"2025-03-01T12:00:00Z","ended":"2025-03-01T12:00:01Z",`+
			`"duration_ms":1250,"size":4096,"uploaded":1024,"acked":2,"expected":2,"subtasks":[{"task":"parse (1/2)","alignment_ms":1,"sync_ms":2,"async_ms":3,"size":2048}]}],`+
			`"restores":[{"attempt":2,"checkpoint":6,"at":"2025-03-01T11:59:00Z"}]}`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeSavepoints) body(key string) (body, contentType string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bodies[key], f.types[key]
}

func TestTriggerSavepoint(t *testing.T) {
	f, srv := newFakeSavepoints(t)
	c := client.New(srv.URL, nil)
	ctx := context.Background()

	id, err := c.TriggerSavepoint(ctx, "j-1")
	require.NoError(t, err)
	assert.Equal(t, "sp-3", id)
	body, _ := f.body("POST /api/v1/jobs/j-1/savepoints")
	assert.Empty(t, body, "a trigger has no body")

	_, err = c.TriggerSavepoint(ctx, "j-2")
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusConflict, apiErr.Status)
	assert.Equal(t, "job j-2 takes no checkpoints", err.Error())
}

func TestStopJob(t *testing.T) {
	f, srv := newFakeSavepoints(t)
	c := client.New(srv.URL, nil)
	ctx := context.Background()

	id, err := c.StopJob(ctx, "j-1", true, false)
	require.NoError(t, err)
	assert.Equal(t, "sp-4", id)
	body, ct := f.body("POST /api/v1/jobs/j-1/stop")
	assert.JSONEq(t, `{"savepoint": true, "drain": false}`, body)
	assert.Equal(t, "application/json", ct)

	_, err = c.StopJob(ctx, "j-1", false, false)
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusBadRequest, apiErr.Status)
	assert.Equal(t, "savepoint: stop without a savepoint is a cancel", err.Error())
}

func TestRescaleJob(t *testing.T) {
	f, srv := newFakeSavepoints(t)
	c := client.New(srv.URL, nil)
	ctx := context.Background()

	id, err := c.RescaleJob(ctx, "j-1", 4, nil)
	require.NoError(t, err)
	assert.Equal(t, "sp-5", id)
	body, _ := f.body("POST /api/v1/jobs/j-1/rescale")
	assert.JSONEq(t, `{"parallelism": 4}`, body)

	id, err = c.RescaleJob(ctx, "j-1", 0, map[string]int{"parse": 3, "counts": 1})
	require.NoError(t, err)
	assert.Equal(t, "sp-5", id)
	body, _ = f.body("POST /api/v1/jobs/j-1/rescale")
	assert.JSONEq(t, `{"steps": {"parse": 3, "counts": 1}}`, body)

	_, err = c.RescaleJob(ctx, "j-1", 0, nil)
	assert.EqualError(t, err, "client: rescale needs a parallelism or steps")
	_, err = c.RescaleJob(ctx, "j-1", 2, map[string]int{"parse": 3})
	assert.EqualError(t, err, "client: rescale takes a parallelism or steps, not both")
}

func TestSavepoints(t *testing.T) {
	_, srv := newFakeSavepoints(t)
	c := client.New(srv.URL, nil)
	ctx := context.Background()

	l, err := c.Savepoints(ctx)
	require.NoError(t, err)
	require.Len(t, l.Savepoints, 2)
	assert.Contains(t, string(l.Raw), `"savepoints"`)
	assert.Nil(t, l.Savepoints[0].Raw)
	assert.Equal(t, "IN_PROGRESS", l.Savepoints[1].Status)
	assert.True(t, l.Savepoints[1].Completed.IsZero())
	assert.False(t, l.Savepoints[1].Done())

	sp, err := c.Savepoint(ctx, "sp-1")
	require.NoError(t, err)
	assert.Equal(t, client.Savepoint{ID: "sp-1", JobID: "j-1", JobName: "clicks", Status: client.SavepointCompleted,
		Created: sp.Created, Completed: sp.Completed, Size: 4096, Checkpoint: 7, Raw: sp.Raw}, *sp)
	assert.True(t, sp.Created.Equal(t0))
	assert.True(t, sp.Completed.Equal(t0.Add(2*time.Second)))
	assert.True(t, sp.Done())
	assert.JSONEq(t, string(sp.Raw), mustJSON(t, sp.Raw))

	_, err = c.Savepoint(ctx, "sp-9")
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusNotFound, apiErr.Status)

	require.NoError(t, c.DeleteSavepoint(ctx, "sp-1"))
	err = c.DeleteSavepoint(ctx, "sp-2")
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusConflict, apiErr.Status)
	assert.Equal(t, "savepoint sp-2 is in progress", err.Error())
}

func TestCheckpoints(t *testing.T) {
	_, srv := newFakeSavepoints(t)
	l, err := client.New(srv.URL, nil).Checkpoints(context.Background(), "j-1")
	require.NoError(t, err)
	assert.True(t, l.Enabled)
	assert.Equal(t, uint64(7), l.Latest)
	assert.Equal(t, client.CheckpointCounts{InProgress: 1, Completed: 6, Failed: 2, Aborted: 1, Restored: 1}, l.Counts)
	require.Len(t, l.Checkpoints, 1)
	cp := l.Checkpoints[0]
	assert.Equal(t, "sp-1", cp.Savepoint)
	assert.Equal(t, 1250.0, cp.DurationMs)
	assert.True(t, cp.Ended.Equal(t0.Add(time.Second)))
	assert.Equal(t, []client.CheckpointSubtask{{Task: "parse (1/2)", AlignmentMs: 1, SyncMs: 2, AsyncMs: 3, Size: 2048}}, cp.Subtasks)
	require.Len(t, l.Restores, 1)
	assert.Equal(t, uint64(6), l.Restores[0].Checkpoint)
	assert.NotEmpty(t, l.Raw)
}
