package control

import (
	"context"
	"encoding/json"
	"errors"
	"io"

	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/weir-streams/weir/control/plan"
	"github.com/weir-streams/weir/internal/jobgraph"
	"github.com/weir-streams/weir/internal/spec"
	"github.com/weir-streams/weir/web"
)

// maxSpecSize caps a job spec body.
const maxSpecSize = 1 << 20

// errorBody is the one error envelope of the API (DESIGN §6).
type errorBody struct {
	Error  string `json:"error"`
	Field  string `json:"field,omitempty"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
}

// Handler returns the HTTP handler: the REST API under /api/v1, /healthz, /metrics
// and the web UI.
func (c *Control) Handler() http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.Recoverer)
	r.Get("/healthz", c.handleHealth)
	if c.registry != nil {
		r.Handle("/metrics", promhttp.HandlerFor(c.registry, promhttp.HandlerOpts{}))
	}
	r.Route("/api/v1", func(r chi.Router) {
		r.Post("/modules", c.handleUploadModule)
		r.Get("/modules", c.handleListModules)
		r.Get("/modules/{name}", c.handleGetModule)
		r.Delete("/modules/{name}", c.handleDeleteModule)
		r.Post("/jobs", c.handleSubmitJob)
		r.Get("/jobs", c.handleListJobs)
		r.Get("/jobs/{id}", c.handleGetJob)
		r.Delete("/jobs/{id}", c.handleCancelJob)
		r.Get("/jobs/{id}/exceptions", c.handleJobExceptions)
		r.Get("/jobs/{id}/checkpoints", c.handleJobCheckpoints)
		r.Post("/jobs/{id}/savepoints", c.handleTriggerSavepoint)
		r.Post("/jobs/{id}/stop", c.handleStopJob)
		r.Post("/jobs/{id}/rescale", c.handleRescaleJob)
		r.Get("/savepoints", c.handleListSavepoints)
		r.Get("/savepoints/{id}", c.handleGetSavepoint)
		r.Delete("/savepoints/{id}", c.handleDeleteSavepoint)
		r.Get("/workers", c.handleWorkers)
		r.NotFound(func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusNotFound, errorBody{Error: "no such endpoint: " + r.Method + " " + r.URL.Path})
		})
		r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusMethodNotAllowed, errorBody{Error: "method " + r.Method + " not allowed on " + r.URL.Path})
		})
	})
	r.Handle("/*", web.Handler())
	return r
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, body errorBody) {
	writeJSON(w, status, body)
}

// fail maps an error to its status code and envelope: the one table from domain
// errors to HTTP.
func (c *Control) fail(w http.ResponseWriter, r *http.Request, err error) {
	var se *spec.Error
	var fe *fieldError
	var pe *plan.Error
	switch {
	case errors.As(err, &se):
		writeError(w, http.StatusBadRequest, errorBody{Error: se.Msg, Field: se.Field, Line: se.Line, Column: se.Column})
	case errors.As(err, &pe):
		writeError(w, http.StatusBadRequest, errorBody{Error: pe.Msg, Field: pe.Field, Line: pe.Line, Column: pe.Column})
	case errors.As(err, &fe) && errors.Is(fe.kind, ErrInvalid):
		writeError(w, http.StatusBadRequest, errorBody{Error: fe.msg, Field: fe.field, Line: fe.line, Column: fe.column})
	case errors.Is(err, ErrInvalid):
		writeError(w, http.StatusBadRequest, errorBody{Error: strings.TrimPrefix(err.Error(), "invalid: ")})
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, errorBody{Error: strings.TrimPrefix(err.Error(), "not found: ")})
	case errors.Is(err, ErrConflict):
		writeError(w, http.StatusConflict, errorBody{Error: strings.TrimPrefix(err.Error(), "conflict: ")})
	case errors.Is(err, ErrTooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, errorBody{Error: strings.TrimPrefix(err.Error(), "too large: ")})
	default:
		c.logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, errorBody{Error: "internal error: " + err.Error()})
	}
}

func (c *Control) handleHealth(w http.ResponseWriter, r *http.Request) {
	if err := c.Healthy(); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (c *Control) handleUploadModule(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, c.opts.MaxModuleSize+1<<20)
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Minute)
	defer cancel()
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var rec *ModuleRecord
	var err error
	switch ct {
	case "multipart/form-data":
		rec, err = c.uploadMultipart(ctx, r)
	case "application/wasm", "application/octet-stream", "":
		rec, err = c.uploadModule(ctx, r.URL.Query().Get("name"), r.Body)
	default:
		writeError(w, http.StatusUnsupportedMediaType, errorBody{Error: "Content-Type " + ct + " is not accepted: send application/wasm with ?name=, or multipart/form-data with fields name and module"})
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	out := *rec
	out.History = nil
	writeJSON(w, http.StatusCreated, out)
}

// uploadMultipart streams the parts: "name" first (or ?name=), then "module".
func (c *Control) uploadMultipart(ctx context.Context, r *http.Request) (*ModuleRecord, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, invalid("", 0, 0, "reading multipart body: %v", err)
	}
	name := r.URL.Query().Get("name")
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil, invalid("module", 0, 0, "the multipart body has no \"module\" part")
		}
		if err != nil {
			return nil, invalid("", 0, 0, "reading multipart body: %v", err)
		}
		switch part.FormName() {
		case "name":
			b, err := io.ReadAll(io.LimitReader(part, 256))
			if err != nil {
				return nil, invalid("name", 0, 0, "reading field name: %v", err)
			}
			name = strings.TrimSpace(string(b))
		case "module":
			if name == "" {
				name = strings.TrimSuffix(part.FileName(), ".wasm")
			}
			return c.uploadModule(ctx, name, part)
		}
	}
}

func (c *Control) handleListModules(w http.ResponseWriter, r *http.Request) {
	mods, err := c.listModules(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"modules": mods})
}

func (c *Control) handleGetModule(w http.ResponseWriter, r *http.Request) {
	rec, _, err := c.getModule(r.Context(), chi.URLParam(r, "name"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rec)
}

func (c *Control) handleDeleteModule(w http.ResponseWriter, r *http.Request) {
	if err := c.deleteModule(r.Context(), chi.URLParam(r, "name")); err != nil {
		c.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (c *Control) handleSubmitJob(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSpecSize))
	if err != nil {
		c.fail(w, r, ErrTooLarge)
		return
	}
	dry := r.URL.Query().Get("dry_run") == "true"
	rec, graph, err := c.submitJob(r.Context(), body, dry)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if dry {
		writeJSON(w, http.StatusOK, map[string]any{"plan": planView(graph, nil), "modules": rec.Modules})
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"id": rec.ID})
}

// JobSummary is a job in the list.
type JobSummary struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Status    string    `json:"status"`
	Reason    string    `json:"reason,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func (c *Control) handleListJobs(w http.ResponseWriter, r *http.Request) {
	recs := c.jobsSnapshot()
	out := make([]JobSummary, 0, len(recs))
	for _, j := range recs {
		out = append(out, JobSummary{ID: j.ID, Name: j.Name, Status: j.Status, Reason: j.Reason, CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt})
	}
	writeJSON(w, http.StatusOK, map[string]any{"jobs": out})
}

// PlanView is the plan as the job API shows it.
type PlanView struct {
	Vertices []VertexView    `json:"vertices"`
	Edges    []jobgraph.Edge `json:"edges"`
}

// VertexView is one vertex with its chained steps and live subtasks.
type VertexView struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	Parallelism int             `json:"parallelism"`
	Steps       []StepView      `json:"steps"`
	Subtasks    []SubtaskStatus `json:"subtasks"`
}

// StepView is one chained step.
type StepView struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	Module   string `json:"module,omitempty"`
	Function string `json:"function,omitempty"`
}

func planView(g *jobgraph.JobGraph, subtasks map[string][]SubtaskStatus) PlanView {
	pv := PlanView{Edges: g.Edges}
	if pv.Edges == nil {
		pv.Edges = []jobgraph.Edge{}
	}
	for _, v := range g.Vertices {
		vv := VertexView{ID: v.ID, Name: v.Name, Parallelism: v.Parallelism, Subtasks: subtasks[v.ID]}
		if vv.Subtasks == nil {
			vv.Subtasks = []SubtaskStatus{}
		}
		sortSubtasks(vv.Subtasks)
		for _, s := range v.Steps {
			sv := StepView{ID: s.ID, Kind: string(s.Kind)}
			if s.UDF != nil {
				sv.Module, sv.Function = s.UDF.Module, s.UDF.Function
			}
			vv.Steps = append(vv.Steps, sv)
		}
		pv.Vertices = append(pv.Vertices, vv)
	}
	return pv
}

func sortSubtasks(s []SubtaskStatus) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j].Index < s[j-1].Index; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// JobView is GET /jobs/{id}.
type JobView struct {
	JobSummary
	Spec    string            `json:"spec"`
	Modules map[string]string `json:"modules"`
	Attempt uint64            `json:"attempt"`
	Plan    PlanView          `json:"plan"`
}

func (c *Control) handleGetJob(w http.ResponseWriter, r *http.Request) {
	m, err := c.job(chi.URLParam(r, "id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	rec, subtasks := m.status()
	writeJSON(w, http.StatusOK, JobView{
		JobSummary: JobSummary{ID: rec.ID, Name: rec.Name, Status: rec.Status, Reason: rec.Reason, CreatedAt: rec.CreatedAt, UpdatedAt: rec.UpdatedAt},
		Spec:       rec.SpecText, Modules: rec.Modules, Attempt: rec.Attempt,
		Plan: planView(m.graph, subtasks),
	})
}

func (c *Control) handleCancelJob(w http.ResponseWriter, r *http.Request) {
	rec, err := c.cancelJob(chi.URLParam(r, "id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"id": rec.ID, "status": "CANCELING"})
}

func (c *Control) handleJobExceptions(w http.ResponseWriter, r *http.Request) {
	m, err := c.job(chi.URLParam(r, "id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	rec := m.snapshot()
	writeJSON(w, http.StatusOK, map[string]any{"exceptions": nonNil(rec.Exceptions)})
}

func (c *Control) handleJobCheckpoints(w http.ResponseWriter, r *http.Request) {
	m, err := c.job(chi.URLParam(r, "id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	list := m.checkpoints()
	list.Checkpoints, list.Restores = nonNil(list.Checkpoints), nonNil(list.Restores)
	writeJSON(w, http.StatusOK, list)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (c *Control) handleWorkers(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"workers": c.Workers()})
}
