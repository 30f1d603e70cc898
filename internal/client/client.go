package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Job statuses as the server reports them (DESIGN.md §6).
const (
	StatusCreated    = "CREATED"
	StatusRunning    = "RUNNING"
	StatusFailing    = "FAILING"
	StatusRestarting = "RESTARTING"
	StatusCanceled   = "CANCELED"
	StatusFinished   = "FINISHED"
	StatusFailed     = "FAILED"
)

// maxErrorBody bounds how much of a non-2xx body is read: an error envelope is small,
// and a proxy's HTML page need not be read whole to say what went wrong.
const maxErrorBody = 64 << 10

// Client talks to one Weir control plane. It is safe for concurrent use.
type Client struct {
	base string // base URL without a trailing slash, e.g. "http://127.0.0.1:8080"
	hc   *http.Client
}

// New returns a client for the server at baseURL ("http://127.0.0.1:8080"; a bare
// "host:port" is taken as http). A nil httpClient means a plain &http.Client{}; it has
// no overall timeout on purpose, since uploads stream for as long as they need, so
// bound calls with their context instead.
func New(baseURL string, httpClient *http.Client) *Client {
	base := strings.TrimSpace(baseURL)
	if base != "" && !strings.Contains(base, "://") {
		base = "http://" + base
	}
	base = strings.TrimRight(base, "/")
	if httpClient == nil {
		httpClient = &http.Client{}
	}
	return &Client{base: base, hc: httpClient}
}

// BaseURL returns the server's base URL as the client uses it.
func (c *Client) BaseURL() string { return c.base }

// APIError is a non-2xx reply. For Weir's error envelope, Message, Field, Line and
// Column are the envelope's; for any other body, Message names the status and quotes
// the start of the body.
type APIError struct {
	Status  int    // HTTP status code
	Message string // what is wrong
	Field   string // the offending field, e.g. "pipeline[2].map.function"; empty when none applies
	Line    int    // 1-based line in the submitted document; 0 when none applies
	Column  int    // 1-based column in the submitted document; 0 when none applies
}

// Error reads like `pipeline[2].map.function: unknown key "fnction" (line 12, column 7)`,
// leaving out the parts that are absent.
func (e *APIError) Error() string {
	var b strings.Builder
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	var pos []string
	if e.Line > 0 {
		pos = append(pos, "line "+strconv.Itoa(e.Line))
	}
	if e.Column > 0 {
		pos = append(pos, "column "+strconv.Itoa(e.Column))
	}
	if len(pos) > 0 {
		b.WriteString(" (")
		b.WriteString(strings.Join(pos, ", "))
		b.WriteString(")")
	}
	return b.String()
}

// Module is an uploaded Wasm module: the latest version its name points to.
type Module struct {
	Name       string          `json:"name"`
	Digest     string          `json:"digest"` // "sha256:<hex>"
	Size       int64           `json:"size"`   // bytes
	UploadedAt time.Time       `json:"uploaded_at"`
	ABIVersion int             `json:"abi_version"`
	Functions  []Function      `json:"functions"`
	History    []ModuleVersion `json:"history,omitempty"` // only from GetModule, newest first as the server orders it
	Raw        json.RawMessage `json:"-"`                 // the response body; nil for a module inside a list
}

// Function is one function a module exports, with its UDF kind ("map", "filter", ...).
type Function struct {
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	Index int    `json:"index"`
}

// ModuleVersion is one upload under a module's name.
type ModuleVersion struct {
	Digest     string    `json:"digest"`
	Size       int64     `json:"size"`
	UploadedAt time.Time `json:"uploaded_at"`
}

// ModuleList is the reply to ListModules.
type ModuleList struct {
	Modules []Module        `json:"modules"`
	Raw     json.RawMessage `json:"-"`
}

// SubmitResult is the reply to SubmitJob: the new job's ID, or for a dry run the plan
// the server would run.
type SubmitResult struct {
	ID   string          `json:"id,omitempty"`
	Plan json.RawMessage `json:"plan,omitempty"` // dry run only
	Raw  json.RawMessage `json:"-"`
}

// ParsePlan decodes the dry run's plan. It fails when there is no plan or its shape is
// not Plan's; the plan's JSON stays available in r.Plan either way.
func (r *SubmitResult) ParsePlan() (*Plan, error) {
	if len(r.Plan) == 0 {
		return nil, errors.New("client: reply has no plan")
	}
	var p Plan
	if err := json.Unmarshal(r.Plan, &p); err != nil {
		return nil, fmt.Errorf("decoding plan: %w", err)
	}
	return &p, nil
}

// JobSummary is one entry of ListJobs.
type JobSummary struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Status    string    `json:"status"`
	Reason    string    `json:"reason,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// JobList is the reply to ListJobs.
type JobList struct {
	Jobs []JobSummary    `json:"jobs"`
	Raw  json.RawMessage `json:"-"`
}

// Job is the reply to GetJob.
type Job struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Status    string            `json:"status"`
	Reason    string            `json:"reason,omitempty"` // why the job is not plainly running
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
	Spec      string            `json:"spec"`    // the job spec as submitted
	Modules   map[string]string `json:"modules"` // module name -> pinned digest
	Plan      *Plan             `json:"plan"`
	Attempt   uint64            `json:"attempt"` // the execution attempt, +1 at each restart
	Raw       json.RawMessage   `json:"-"`
}

// Plan is a job's graph after chaining: vertices with their chained steps, and the
// edges between them.
type Plan struct {
	Vertices []Vertex `json:"vertices"`
	Edges    []Edge   `json:"edges"`
}

// Vertex is one chain of steps that runs as Parallelism subtasks.
type Vertex struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Steps       []Step    `json:"steps"`
	Parallelism int       `json:"parallelism"`
	Subtasks    []Subtask `json:"subtasks,omitempty"` // empty in a dry run's plan
}

// Step is one step of the job spec's pipeline, by its id and kind ("source", "map", ...).
type Step struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
}

// Subtask is one parallel instance of a vertex.
type Subtask struct {
	Index      int    `json:"index"`
	Worker     string `json:"worker"`
	Status     string `json:"status"`
	RecordsIn  int64  `json:"records_in"`
	RecordsOut int64  `json:"records_out"`
	BytesIn    int64  `json:"bytes_in"`
	BytesOut   int64  `json:"bytes_out"`
	// BuffersInFlight are buffers sent that wait for the receiver's credit.
	BuffersInFlight int `json:"buffers_in_flight"`
	// Backpressure and Busy are shares (0..1) of the last heartbeat interval.
	Backpressure float64 `json:"backpressure"`
	Busy         float64 `json:"busy"`
	// ExchangeBytesOut counts bytes sent to other worker processes over NATS.
	ExchangeBytesOut int64 `json:"exchange_bytes_out"`
	// InputQueued buffers from other processes wait in the input, which has room
	// for InputCredit of them: flow control keeps InputQueued ≤ InputCredit.
	InputQueued int `json:"input_queued"`
	InputCredit int `json:"input_credit"`
	// KeyedNull counts records a key_by by JSON field keyed null (field missing or
	// unusable).
	KeyedNull int64 `json:"keyed_null"`
	// Watermark is the subtask's event-time clock in ms (math.MinInt64 before its
	// first watermark); nil when it does not follow event time. WatermarkIdle
	// says all its inputs are idle.
	Watermark     *int64 `json:"watermark,omitempty"`
	WatermarkIdle bool   `json:"watermark_idle,omitempty"`
	// LateRecords counts records after their windows' allowed lateness;
	// InvalidTimestamps records dropped for want of a usable timestamp.
	LateRecords       int64 `json:"late_records,omitempty"`
	InvalidTimestamps int64 `json:"invalid_timestamps,omitempty"`
}

// Edge connects two vertices, by their IDs, with a partitioning ("forward", "hash", ...).
type Edge struct {
	From         string `json:"from"`
	To           string `json:"to"`
	Partitioning string `json:"partitioning"`
	// Tag names the side output of From the edge carries ("" for the main
	// output), declared by step TagStep.
	Tag     string `json:"tag,omitempty"`
	TagStep string `json:"tag_step,omitempty"`
	// Input is the input of To's first step the edge feeds: 0, or for a
	// union, join or co_process step its index in inputs.
	Input int `json:"input,omitempty"`
}

// Exception is one failure a job recorded.
type Exception struct {
	Time    time.Time `json:"time"`
	Task    string    `json:"task"`
	Kind    string    `json:"kind"`
	Message string    `json:"message"`
	Stack   string    `json:"stack,omitempty"`
}

// ExceptionList is the reply to JobExceptions.
type ExceptionList struct {
	Exceptions []Exception     `json:"exceptions"`
	Raw        json.RawMessage `json:"-"`
}

// CancelResult is the reply to CancelJob: cancellation is asynchronous, so Status is
// the job's status when the request was accepted.
type CancelResult struct {
	ID     string          `json:"id"`
	Status string          `json:"status"`
	Raw    json.RawMessage `json:"-"`
}

// UploadModule uploads a Wasm module under name, streaming wasm as the request body
// (it is never read whole into memory). The caller keeps ownership of wasm: it is
// not closed. An *os.File or a reader with a Len method gets a Content-Length, which
// lets the server refuse an oversized module before the body is sent.
func (c *Client) UploadModule(ctx context.Context, name string, wasm io.Reader) (*Module, error) {
	if name == "" {
		return nil, errors.New("module name is empty")
	}
	req, err := c.newRequest(ctx, http.MethodPost, "/api/v1/modules?"+url.Values{"name": {name}}.Encode(), &uploadBody{r: wasm})
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/wasm")
	if n, ok := remainingLen(wasm); ok {
		req.ContentLength = n
	}
	m := &Module{}
	if m.Raw, err = c.do(req, m); err != nil {
		return nil, err
	}
	return m, nil
}

// ListModules lists every module name with its latest version.
func (c *Client) ListModules(ctx context.Context) (*ModuleList, error) {
	l := &ModuleList{}
	raw, err := c.get(ctx, "/api/v1/modules", l)
	if err != nil {
		return nil, err
	}
	l.Raw = raw
	return l, nil
}

// GetModule returns the module called name, with the history of its uploads.
func (c *Client) GetModule(ctx context.Context, name string) (*Module, error) {
	m := &Module{}
	raw, err := c.get(ctx, "/api/v1/modules/"+url.PathEscape(name), m)
	if err != nil {
		return nil, err
	}
	m.Raw = raw
	return m, nil
}

// DeleteModule deletes the module called name. The server refuses (409) while a live
// job uses it.
func (c *Client) DeleteModule(ctx context.Context, name string) error {
	req, err := c.newRequest(ctx, http.MethodDelete, "/api/v1/modules/"+url.PathEscape(name), nil)
	if err != nil {
		return err
	}
	_, err = c.do(req, nil)
	return err
}

// SubmitJob submits a job spec, YAML or JSON: a spec whose first non-blank byte is
// '{' is sent as application/json, anything else as application/yaml. With dryRun the
// server only validates the spec and the result carries the plan instead of an ID.
func (c *Client) SubmitJob(ctx context.Context, spec []byte, dryRun bool) (*SubmitResult, error) {
	path := "/api/v1/jobs"
	if dryRun {
		path += "?dry_run=true"
	}
	req, err := c.newRequest(ctx, http.MethodPost, path, bytes.NewReader(spec))
	if err != nil {
		return nil, err
	}
	ct := "application/yaml"
	if t := bytes.TrimLeft(spec, " \t\r\n\ufeff"); len(t) > 0 && t[0] == '{' {
		ct = "application/json"
	}
	req.Header.Set("Content-Type", ct)
	r := &SubmitResult{}
	if r.Raw, err = c.do(req, r); err != nil {
		return nil, err
	}
	return r, nil
}

// ListJobs lists the jobs the server knows, finished ones included.
func (c *Client) ListJobs(ctx context.Context) (*JobList, error) {
	l := &JobList{}
	raw, err := c.get(ctx, "/api/v1/jobs", l)
	if err != nil {
		return nil, err
	}
	l.Raw = raw
	return l, nil
}

// Worker is a registered worker, as GET /workers shows it.
type Worker struct {
	ID            string    `json:"id"`
	Address       string    `json:"address,omitempty"`
	Slots         int       `json:"slots"`
	SlotsUsed     int       `json:"slots_used"`
	Tasks         int       `json:"tasks"`
	MemoryBytes   uint64    `json:"memory_bytes"`
	LastHeartbeat time.Time `json:"last_heartbeat"`
}

// WorkerList is the reply to Workers.
type WorkerList struct {
	Workers []Worker        `json:"workers"`
	Raw     json.RawMessage `json:"-"`
}

// Workers lists the workers registered with the control plane.
func (c *Client) Workers(ctx context.Context) (*WorkerList, error) {
	l := &WorkerList{}
	raw, err := c.get(ctx, "/api/v1/workers", l)
	if err != nil {
		return nil, err
	}
	l.Raw = raw
	return l, nil
}

// GetJob returns the job with the given ID: its status, spec, pinned modules and plan.
func (c *Client) GetJob(ctx context.Context, id string) (*Job, error) {
	j := &Job{}
	raw, err := c.get(ctx, "/api/v1/jobs/"+url.PathEscape(id), j)
	if err != nil {
		return nil, err
	}
	j.Raw = raw
	return j, nil
}

// CancelJob asks the server to cancel the job. It returns once the request is
// accepted; the job reaches CANCELED later.
func (c *Client) CancelJob(ctx context.Context, id string) (*CancelResult, error) {
	req, err := c.newRequest(ctx, http.MethodDelete, "/api/v1/jobs/"+url.PathEscape(id), nil)
	if err != nil {
		return nil, err
	}
	r := &CancelResult{}
	if r.Raw, err = c.do(req, r); err != nil {
		return nil, err
	}
	return r, nil
}

// JobExceptions returns the failures the job recorded.
func (c *Client) JobExceptions(ctx context.Context, id string) (*ExceptionList, error) {
	l := &ExceptionList{}
	raw, err := c.get(ctx, "/api/v1/jobs/"+url.PathEscape(id)+"/exceptions", l)
	if err != nil {
		return nil, err
	}
	l.Raw = raw
	return l, nil
}

// Health returns nil when the server reports itself healthy (GET /healthz answers 2xx).
func (c *Client) Health(ctx context.Context) error {
	req, err := c.newRequest(ctx, http.MethodGet, "/healthz", nil)
	if err != nil {
		return err
	}
	_, err = c.do(req, nil)
	return err
}

func (c *Client) get(ctx context.Context, path string, out any) (json.RawMessage, error) {
	req, err := c.newRequest(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	return c.do(req, out)
}

func (c *Client) newRequest(ctx context.Context, method, path string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, fmt.Errorf("invalid server URL %q: %w", c.base, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "weir-client")
	return req, nil
}

// do sends req and returns the reply's body. A 2xx body is decoded into out unless
// out is nil; any other status becomes an *APIError.
func (c *Client) do(req *http.Request, out any) (json.RawMessage, error) {
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, c.sendError(req, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, readAPIError(resp)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		if ctxErr := req.Context().Err(); ctxErr != nil {
			err = ctxErr
		}
		return nil, fmt.Errorf("reading reply to %s %s: %w", req.Method, req.URL.Path, err)
	}
	if out == nil {
		return body, nil
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, fmt.Errorf("decoding reply to %s %s: empty body (status %d)", req.Method, req.URL.Path, resp.StatusCode)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return nil, fmt.Errorf("decoding reply to %s %s: %w", req.Method, req.URL.Path, err)
	}
	return body, nil
}

// sendError explains why no reply arrived: the caller's reader failed, the caller's
// context ended, or the server could not be reached.
func (c *Client) sendError(req *http.Request, err error) error {
	var bre *bodyReadError
	if errors.As(err, &bre) {
		return fmt.Errorf("reading request body: %w", bre.err)
	}
	if ctxErr := req.Context().Err(); ctxErr != nil {
		return fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, ctxErr)
	}
	// url.Error repeats the method and the full URL; the base URL says enough.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("cannot reach Weir at %s: %w", c.base, err)
}

// readAPIError turns a non-2xx reply into an *APIError.
func readAPIError(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var env struct {
		Error  string `json:"error"`
		Field  string `json:"field"`
		Line   int    `json:"line"`
		Column int    `json:"column"`
	}
	if err := json.Unmarshal(body, &env); err == nil && env.Error != "" {
		return &APIError{Status: resp.StatusCode, Message: env.Error, Field: env.Field, Line: env.Line, Column: env.Column}
	}
	msg := "server replied " + resp.Status
	if resp.Status == "" {
		msg = "server replied " + strconv.Itoa(resp.StatusCode)
	}
	if s := snippet(body); s != "" {
		msg += ": " + s
	}
	return &APIError{Status: resp.StatusCode, Message: msg}
}

// snippet returns the start of body on one line, for quoting in an error.
func snippet(body []byte) string {
	const max = 200
	s := strings.Join(strings.Fields(string(body)), " ")
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// uploadBody marks errors from the caller's reader so that sendError can tell them
// from a transport failure: net/http hands them back wrapped in a *url.Error.
type uploadBody struct{ r io.Reader }

type bodyReadError struct{ err error }

func (e *bodyReadError) Error() string { return e.err.Error() }
func (e *bodyReadError) Unwrap() error { return e.err }

func (b *uploadBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		err = &bodyReadError{err: err}
	}
	return n, err
}

// remainingLen reports how many bytes r will yield, when that is cheap to know.
func remainingLen(r io.Reader) (int64, bool) {
	switch v := r.(type) {
	case interface{ Len() int }:
		return int64(v.Len()), true
	case *os.File:
		fi, err := v.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			return 0, false
		}
		off, err := v.Seek(0, io.SeekCurrent)
		if err != nil || off > fi.Size() {
			return 0, false
		}
		return fi.Size() - off, true
	}
	return 0, false
}

// CheckpointList is a job's checkpoints (GET /jobs/{id}/checkpoints).
type CheckpointList struct {
	// Enabled says whether the job takes checkpoints.
	Enabled bool `json:"enabled"`
	// Latest is the id of the latest completed checkpoint, 0 for none.
	Latest uint64 `json:"latest"`
	// Counts are the job's totals, which cover more than the recent ones Checkpoints
	// lists.
	Counts CheckpointCounts `json:"counts"`
	// Checkpoints are the most recent ones, oldest first.
	Checkpoints []Checkpoint `json:"checkpoints"`
	// Restores says which checkpoint each execution attempt started from.
	Restores []CheckpointRestore `json:"restores"`
	Raw      json.RawMessage     `json:"-"`
}

// CheckpointCounts are a job's checkpoint totals by outcome, and how many times the
// job was restored from one.
type CheckpointCounts struct {
	InProgress int `json:"in_progress"`
	Completed  int `json:"completed"`
	Failed     int `json:"failed"`
	Aborted    int `json:"aborted"`
	Restored   int `json:"restored"`
}

// Checkpoint is one checkpoint's figures.
type Checkpoint struct {
	ID        uint64    `json:"id"`
	Savepoint string    `json:"savepoint,omitempty"` // the savepoint's id, for a savepoint
	Status    string    `json:"status"`              // IN_PROGRESS, COMPLETED, FAILED, ABORTED
	Triggered time.Time `json:"triggered"`
	// Ended is when it completed, failed or was aborted; zero while in progress.
	Ended time.Time `json:"ended,omitzero"`
	// DurationMs is from the trigger to the end.
	DurationMs float64 `json:"duration_ms"`
	Size       int64   `json:"size"`
	Uploaded   int64   `json:"uploaded"`
	Acked      int     `json:"acked"`
	Expected   int     `json:"expected"`
	Failure    string  `json:"failure,omitempty"`
	// Subtasks are each subtask's alignment, synchronous and asynchronous times.
	Subtasks []CheckpointSubtask `json:"subtasks,omitempty"`
}

// CheckpointSubtask is one subtask's part of a checkpoint.
type CheckpointSubtask struct {
	Task        string  `json:"task"`
	AlignmentMs float64 `json:"alignment_ms"`
	SyncMs      float64 `json:"sync_ms"`
	AsyncMs     float64 `json:"async_ms"`
	Size        int64   `json:"size"`
}

// CheckpointRestore is the checkpoint an execution attempt restored (0 for none).
type CheckpointRestore struct {
	Attempt    uint64    `json:"attempt"`
	Checkpoint uint64    `json:"checkpoint"`
	At         time.Time `json:"at"`
}

// Checkpoints returns a job's checkpoints.
func (c *Client) Checkpoints(ctx context.Context, id string) (*CheckpointList, error) {
	l := &CheckpointList{}
	raw, err := c.get(ctx, "/api/v1/jobs/"+url.PathEscape(id)+"/checkpoints", l)
	if err != nil {
		return nil, err
	}
	l.Raw = raw
	return l, nil
}
