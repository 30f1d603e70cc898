package client_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weir-streams/weir/internal/client"
)

// fakeWeir is a hand-written stand-in for the control plane's REST API: enough
// behaviour to exercise every client method, with what it received kept for checks.
type fakeWeir struct {
	t *testing.T

	mu      sync.Mutex
	modules map[string][]map[string]any // name -> versions, newest last
	jobs    map[string]map[string]any
	// What the last POST /api/v1/jobs carried.
	lastContentType string
	lastSpec        []byte
	// uploadStarted is closed once an upload's first bytes reach the handler, if set.
	uploadStarted chan struct{}
	// What the last upload carried.
	lastUploadLength int64
	lastUploadTE     []string
}

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func newFake(t *testing.T) (*fakeWeir, *httptest.Server) {
	f := &fakeWeir{t: t, modules: map[string][]map[string]any{}, jobs: map[string]map[string]any{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/modules", f.upload)
	mux.HandleFunc("GET /api/v1/modules", f.listModules)
	mux.HandleFunc("GET /api/v1/modules/{name}", f.getModule)
	mux.HandleFunc("DELETE /api/v1/modules/{name}", f.deleteModule)
	mux.HandleFunc("POST /api/v1/jobs", f.submit)
	mux.HandleFunc("GET /api/v1/jobs", f.listJobs)
	mux.HandleFunc("GET /api/v1/jobs/{id}", f.getJob)
	mux.HandleFunc("DELETE /api/v1/jobs/{id}", f.cancel)
	mux.HandleFunc("GET /api/v1/jobs/{id}/exceptions", f.exceptions)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return f, srv
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func replyErr(w http.ResponseWriter, status int, msg string) {
	reply(w, status, map[string]any{"error": msg})
}

func (f *fakeWeir) upload(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	if name == "" {
		replyErr(w, http.StatusBadRequest, "name is required")
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/wasm" {
		replyErr(w, http.StatusUnsupportedMediaType, "unsupported content type "+ct)
		return
	}
	h := sha256.New()
	buf := make([]byte, 32<<10)
	var size int64
	for {
		n, err := r.Body.Read(buf)
		if n > 0 && size == 0 && f.uploadStarted != nil {
			close(f.uploadStarted)
		}
		h.Write(buf[:n])
		size += int64(n)
		if err == io.EOF {
			break
		}
		if err != nil {
			replyErr(w, http.StatusBadRequest, "reading body: "+err.Error())
			return
		}
	}
	v := map[string]any{
		"digest":      "sha256:" + hex.EncodeToString(h.Sum(nil)),
		"size":        size,
		"uploaded_at": t0.Format(time.RFC3339),
	}
	f.mu.Lock()
	f.lastUploadLength = r.ContentLength
	f.lastUploadTE = r.TransferEncoding
	f.modules[name] = append(f.modules[name], v)
	f.mu.Unlock()
	reply(w, http.StatusCreated, f.moduleJSON(name, false))
}

func (f *fakeWeir) moduleJSON(name string, history bool) map[string]any {
	vs := f.modules[name]
	latest := vs[len(vs)-1]
	m := map[string]any{
		"name": name, "digest": latest["digest"], "size": latest["size"],
		"uploaded_at": latest["uploaded_at"], "abi_version": 1,
		"functions": []map[string]any{
			{"name": "normalize", "kind": "map", "index": 0},
			{"name": "is_bot", "kind": "filter", "index": 1},
		},
	}
	if history {
		h := make([]map[string]any, 0, len(vs))
		for i := len(vs) - 1; i >= 0; i-- {
			h = append(h, vs[i])
		}
		m["history"] = h
	}
	return m
}

func (f *fakeWeir) listModules(w http.ResponseWriter, _ *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	list := []map[string]any{}
	for name := range f.modules {
		list = append(list, f.moduleJSON(name, false))
	}
	reply(w, http.StatusOK, map[string]any{"modules": list})
}

func (f *fakeWeir) getModule(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	name := r.PathValue("name")
	if _, ok := f.modules[name]; !ok {
		replyErr(w, http.StatusNotFound, fmt.Sprintf("module %q not found", name))
		return
	}
	reply(w, http.StatusOK, f.moduleJSON(name, true))
}

func (f *fakeWeir) deleteModule(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	name := r.PathValue("name")
	switch {
	case name == "in-use":
		replyErr(w, http.StatusConflict, `module "in-use" is used by running job j-1`)
	case f.modules[name] == nil:
		replyErr(w, http.StatusNotFound, fmt.Sprintf("module %q not found", name))
	default:
		delete(f.modules, name)
		w.WriteHeader(http.StatusNoContent)
	}
}

var testPlan = map[string]any{
	"vertices": []map[string]any{
		{"id": "v1", "name": "clicks -> parse", "parallelism": 2,
			"steps": []map[string]any{{"id": "clicks", "kind": "source"}, {"id": "parse", "kind": "map"}}},
		{"id": "v2", "name": "counts -> out", "parallelism": 2,
			"steps": []map[string]any{{"id": "counts", "kind": "window"}, {"id": "out", "kind": "sink"}}},
	},
	"edges": []map[string]any{{"from": "v1", "to": "v2", "partitioning": "hash"}},
}

func (f *fakeWeir) submit(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	require.NoError(f.t, err)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastContentType = r.Header.Get("Content-Type")
	f.lastSpec = body
	if bytes.Contains(body, []byte("fnction")) {
		reply(w, http.StatusBadRequest, map[string]any{
			"error": `unknown key "fnction"`, "field": "pipeline[2].map.function", "line": 12, "column": 7,
		})
		return
	}
	if r.URL.Query().Get("dry_run") == "true" {
		reply(w, http.StatusOK, map[string]any{"plan": testPlan})
		return
	}
	id := fmt.Sprintf("j-%d", len(f.jobs)+1)
	f.jobs[id] = map[string]any{"id": id, "name": "clicks-per-user", "status": "RUNNING",
		"created_at": t0.Format(time.RFC3339), "updated_at": t0.Add(time.Second).Format(time.RFC3339),
		"spec": string(body), "modules": map[string]string{"clicks": "sha256:abcd"}}
	reply(w, http.StatusCreated, map[string]any{"id": id})
}

func (f *fakeWeir) listJobs(w http.ResponseWriter, _ *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	list := []map[string]any{}
	for _, j := range f.jobs {
		list = append(list, map[string]any{"id": j["id"], "name": j["name"], "status": j["status"], "created_at": j["created_at"]})
	}
	reply(w, http.StatusOK, map[string]any{"jobs": list})
}

func (f *fakeWeir) getJob(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	j, ok := f.jobs[r.PathValue("id")]
	if !ok {
		replyErr(w, http.StatusNotFound, fmt.Sprintf("job %q not found", r.PathValue("id")))
		return
	}
	out := map[string]any{"plan": map[string]any{
		"vertices": []map[string]any{{"id": "v1", "name": "clicks -> parse", "parallelism": 1,
			"steps":    []map[string]any{{"id": "clicks", "kind": "source"}, {"id": "parse", "kind": "map"}},
			"subtasks": []map[string]any{{"index": 0, "worker": "w-1", "status": "RUNNING", "records_in": 10, "records_out": 9}}}},
		"edges": []map[string]any{},
	}}
	for k, v := range j {
		out[k] = v
	}
	reply(w, http.StatusOK, out)
}

func (f *fakeWeir) cancel(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	j, ok := f.jobs[r.PathValue("id")]
	if !ok {
		replyErr(w, http.StatusNotFound, fmt.Sprintf("job %q not found", r.PathValue("id")))
		return
	}
	j["status"] = "CANCELED"
	reply(w, http.StatusAccepted, map[string]any{"id": j["id"], "status": "CANCELED"})
}

func (f *fakeWeir) exceptions(w http.ResponseWriter, _ *http.Request) {
	reply(w, http.StatusOK, map[string]any{"exceptions": []map[string]any{
		{"time": t0.Format(time.RFC3339), "task": "parse (1/2)", "kind": "wasm_trap", "message": "unreachable", "stack": "normalize\nmain"},
	}})
}

func TestUploadModuleStreamsBodyIntact(t *testing.T) {
	f, srv := newFake(t)
	f.uploadStarted = make(chan struct{})
	c := client.New(srv.URL, nil)

	// The second half is written only after the server has seen the first: a client
	// that buffered the whole body before sending would never finish.
	payload := make([]byte, 3<<20)
	_, _ = rand.Read(payload)
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write(payload[:1<<20])
		select {
		case <-f.uploadStarted:
		case <-time.After(10 * time.Second):
			pw.CloseWithError(errors.New("server saw no bytes before the body was complete"))
			return
		}
		_, _ = pw.Write(payload[1<<20:])
		pw.Close()
	}()

	m, err := c.UploadModule(context.Background(), "clicks", pr)
	require.NoError(t, err)
	sum := sha256.Sum256(payload)
	assert.Equal(t, "sha256:"+hex.EncodeToString(sum[:]), m.Digest)
	assert.Equal(t, int64(len(payload)), m.Size)
	assert.Equal(t, "clicks", m.Name)
	assert.Equal(t, 1, m.ABIVersion)
	assert.Equal(t, []client.Function{{Name: "normalize", Kind: "map", Index: 0}, {Name: "is_bot", Kind: "filter", Index: 1}}, m.Functions)
	assert.True(t, m.UploadedAt.Equal(t0))
	assert.Contains(t, string(m.Raw), `"digest"`)
	f.mu.Lock()
	assert.Equal(t, []string{"chunked"}, f.lastUploadTE, "a reader of unknown length is sent chunked")
	f.mu.Unlock()
}

func TestUploadModuleFromFileSendsContentLength(t *testing.T) {
	f, srv := newFake(t)
	c := client.New(srv.URL, nil)
	path := filepath.Join(t.TempDir(), "enrich.wasm")
	content := []byte("\x00asm\x01\x00\x00\x00 pretend module")
	require.NoError(t, os.WriteFile(path, content, 0o644))
	file, err := os.Open(path)
	require.NoError(t, err)
	defer file.Close()

	m, err := c.UploadModule(context.Background(), "enrich", file)
	require.NoError(t, err)
	assert.Equal(t, int64(len(content)), m.Size)
	f.mu.Lock()
	assert.Equal(t, int64(len(content)), f.lastUploadLength)
	f.mu.Unlock()
}

type failingReader struct{ err error }

func (r failingReader) Read([]byte) (int, error) { return 0, r.err }

func TestUploadModuleReaderFailure(t *testing.T) {
	_, srv := newFake(t)
	c := client.New(srv.URL, nil)
	boom := errors.New("disk on fire")
	_, err := c.UploadModule(context.Background(), "x", failingReader{boom})
	require.Error(t, err)
	assert.ErrorIs(t, err, boom)
	assert.NotContains(t, err.Error(), "cannot reach")

	_, err = c.UploadModule(context.Background(), "", strings.NewReader("x"))
	assert.EqualError(t, err, "module name is empty")
}

func TestModules(t *testing.T) {
	_, srv := newFake(t)
	c := client.New(srv.URL+"/", nil) // a trailing slash is tolerated
	ctx := context.Background()

	_, err := c.UploadModule(ctx, "clicks", strings.NewReader("v1"))
	require.NoError(t, err)
	second, err := c.UploadModule(ctx, "clicks", strings.NewReader("v2"))
	require.NoError(t, err)

	list, err := c.ListModules(ctx)
	require.NoError(t, err)
	require.Len(t, list.Modules, 1)
	assert.Equal(t, second.Digest, list.Modules[0].Digest)
	assert.Nil(t, list.Modules[0].History)
	assert.JSONEq(t, string(list.Raw), mustJSON(t, list.Raw))

	m, err := c.GetModule(ctx, "clicks")
	require.NoError(t, err)
	require.Len(t, m.History, 2)
	assert.Equal(t, second.Digest, m.History[0].Digest)
	assert.Equal(t, int64(2), m.History[1].Size)

	_, err = c.GetModule(ctx, "nope")
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusNotFound, apiErr.Status)
	assert.EqualError(t, err, `module "nope" not found`)

	err = c.DeleteModule(ctx, "in-use")
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusConflict, apiErr.Status)

	require.NoError(t, c.DeleteModule(ctx, "clicks"))
	list, err = c.ListModules(ctx)
	require.NoError(t, err)
	assert.Empty(t, list.Modules)
}

func mustJSON(t *testing.T, raw json.RawMessage) string {
	var v any
	require.NoError(t, json.Unmarshal(raw, &v))
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func TestSubmitJob(t *testing.T) {
	f, srv := newFake(t)
	c := client.New(srv.URL, nil)
	ctx := context.Background()

	for _, tc := range []struct {
		name, spec, contentType string
	}{
		{"yaml", "name: clicks-per-user\npipeline: []\n", "application/yaml"},
		{"json", "{\"name\": \"clicks-per-user\"}", "application/json"},
		{"json after blanks", "\n  {\"name\": \"x\"}", "application/json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := c.SubmitJob(ctx, []byte(tc.spec), false)
			require.NoError(t, err)
			assert.NotEmpty(t, res.ID)
			assert.Empty(t, res.Plan)
			f.mu.Lock()
			defer f.mu.Unlock()
			assert.Equal(t, tc.contentType, f.lastContentType)
			assert.Equal(t, tc.spec, string(f.lastSpec))
		})
	}

	t.Run("dry run", func(t *testing.T) {
		res, err := c.SubmitJob(ctx, []byte("name: x\n"), true)
		require.NoError(t, err)
		assert.Empty(t, res.ID)
		plan, err := res.ParsePlan()
		require.NoError(t, err)
		require.Len(t, plan.Vertices, 2)
		assert.Equal(t, []client.Step{{ID: "clicks", Kind: "source"}, {ID: "parse", Kind: "map"}}, plan.Vertices[0].Steps)
		assert.Equal(t, []client.Edge{{From: "v1", To: "v2", Partitioning: "hash"}}, plan.Edges)
	})

	t.Run("invalid spec", func(t *testing.T) {
		_, err := c.SubmitJob(ctx, []byte("pipeline:\n  - map: { fnction: f }\n"), false)
		var apiErr *client.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, client.APIError{Status: 400, Message: `unknown key "fnction"`, Field: "pipeline[2].map.function", Line: 12, Column: 7}, *apiErr)
		assert.EqualError(t, err, `pipeline[2].map.function: unknown key "fnction" (line 12, column 7)`)
	})
}

func TestJobs(t *testing.T) {
	_, srv := newFake(t)
	c := client.New(srv.URL, nil)
	ctx := context.Background()

	res, err := c.SubmitJob(ctx, []byte("name: clicks-per-user\n"), false)
	require.NoError(t, err)

	list, err := c.ListJobs(ctx)
	require.NoError(t, err)
	require.Len(t, list.Jobs, 1)
	assert.Equal(t, client.JobSummary{ID: res.ID, Name: "clicks-per-user", Status: client.StatusRunning, CreatedAt: list.Jobs[0].CreatedAt}, list.Jobs[0])
	assert.True(t, list.Jobs[0].CreatedAt.Equal(t0))

	j, err := c.GetJob(ctx, res.ID)
	require.NoError(t, err)
	assert.Equal(t, "name: clicks-per-user\n", j.Spec)
	assert.Equal(t, map[string]string{"clicks": "sha256:abcd"}, j.Modules)
	require.NotNil(t, j.Plan)
	require.Len(t, j.Plan.Vertices, 1)
	assert.Equal(t, []client.Subtask{{Index: 0, Worker: "w-1", Status: "RUNNING", RecordsIn: 10, RecordsOut: 9}}, j.Plan.Vertices[0].Subtasks)
	assert.True(t, j.UpdatedAt.After(j.CreatedAt))

	ex, err := c.JobExceptions(ctx, res.ID)
	require.NoError(t, err)
	require.Len(t, ex.Exceptions, 1)
	assert.Equal(t, "unreachable", ex.Exceptions[0].Message)
	assert.Equal(t, "normalize\nmain", ex.Exceptions[0].Stack)

	cr, err := c.CancelJob(ctx, res.ID)
	require.NoError(t, err)
	assert.Equal(t, client.StatusCanceled, cr.Status)
	assert.Equal(t, res.ID, cr.ID)

	_, err = c.CancelJob(ctx, "j-404")
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusNotFound, apiErr.Status)

	require.NoError(t, c.Health(ctx))
}

func TestNonEnvelopeErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			http.Error(w, "nats: not connected", http.StatusServiceUnavailable)
		case "/api/v1/jobs":
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "<html>\n<body>Bad   gateway</body>\n</html>\n")
		case "/api/v1/modules":
			w.WriteHeader(http.StatusInternalServerError)
		default:
			io.WriteString(w, "this is not json")
		}
	}))
	defer srv.Close()
	c := client.New(srv.URL, nil)
	ctx := context.Background()
	var apiErr *client.APIError

	err := c.Health(ctx)
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusServiceUnavailable, apiErr.Status)
	assert.EqualError(t, err, "server replied 503 Service Unavailable: nats: not connected")

	_, err = c.ListJobs(ctx)
	require.ErrorAs(t, err, &apiErr)
	assert.EqualError(t, err, "server replied 502 Bad Gateway: <html> <body>Bad gateway</body> </html>")

	_, err = c.ListModules(ctx)
	assert.EqualError(t, err, "server replied 500 Internal Server Error")

	_, err = c.GetJob(ctx, "x")
	require.Error(t, err)
	assert.False(t, errors.As(err, &apiErr))
	assert.Contains(t, err.Error(), "decoding reply to GET /api/v1/jobs/x")
}

func TestAPIErrorMessage(t *testing.T) {
	for _, tc := range []struct {
		err  client.APIError
		want string
	}{
		{client.APIError{Message: "boom"}, "boom"},
		{client.APIError{Message: "required", Field: "name"}, "name: required"},
		{client.APIError{Message: "bad yaml", Line: 3}, "bad yaml (line 3)"},
		{client.APIError{Message: "bad yaml", Line: 3, Column: 1}, "bad yaml (line 3, column 1)"},
		{client.APIError{Message: `unknown key "fnction"`, Field: "pipeline[2].map.function", Line: 12, Column: 7},
			`pipeline[2].map.function: unknown key "fnction" (line 12, column 7)`},
	} {
		assert.Equal(t, tc.want, tc.err.Error())
	}
}

func TestConnectionRefused(t *testing.T) {
	// A port that was just free and has no listener.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())

	c := client.New("http://"+addr, nil)
	_, err = c.ListJobs(context.Background())
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "cannot reach Weir at http://"+addr+": "), err.Error())
	assert.ErrorIs(t, err, syscall.ECONNREFUSED)
	var apiErr *client.APIError
	assert.False(t, errors.As(err, &apiErr))
}

func TestContextCanceled(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)

	ctx, cancel := context.WithCancel(context.Background())
	c := client.New(srv.URL, nil)
	done := make(chan error, 1)
	go func() { _, err := c.GetJob(ctx, "j-1"); done <- err }()
	cancel()
	err := <-done
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotContains(t, err.Error(), "cannot reach")
}

func TestNewNormalizesBaseURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8080":   "http://127.0.0.1:8080",
		"http://127.0.0.1:8080/":  "http://127.0.0.1:8080",
		"localhost:8080":          "http://localhost:8080",
		" https://weir.example/ ": "https://weir.example",
		"http://host/prefix/":     "http://host/prefix",
	} {
		assert.Equal(t, want, client.New(in, nil).BaseURL(), in)
	}
}
