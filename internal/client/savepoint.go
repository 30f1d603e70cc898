package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Savepoint statuses as the server reports them.
const (
	SavepointInProgress = "IN_PROGRESS"
	SavepointCompleted  = "COMPLETED"
	SavepointFailed     = "FAILED"
)

// Savepoint is a user-triggered snapshot of a job's state that outlives the job
// (GET /savepoints/{id}).
type Savepoint struct {
	ID      string `json:"id"` // "sp-<hex>"
	JobID   string `json:"job_id"`
	JobName string `json:"job_name"`
	// Status is SavepointInProgress, SavepointCompleted or SavepointFailed.
	Status  string    `json:"status"`
	Created time.Time `json:"created"`
	// Completed is zero until the savepoint has completed.
	Completed time.Time `json:"completed,omitzero"`
	Size      int64     `json:"size"`            // bytes
	Error     string    `json:"error,omitempty"` // why it failed; only when FAILED
	// Checkpoint is the savepoint's id in the job's sequence of checkpoints.
	Checkpoint uint64          `json:"checkpoint,omitempty"`
	Raw        json.RawMessage `json:"-"` // the response body; nil for a savepoint inside a list
}

// Done reports whether the savepoint has reached a final status, COMPLETED or FAILED.
func (s *Savepoint) Done() bool {
	return s.Status == SavepointCompleted || s.Status == SavepointFailed
}

// SavepointList is the reply to Savepoints.
type SavepointList struct {
	Savepoints []Savepoint     `json:"savepoints"`
	Raw        json.RawMessage `json:"-"`
}

// TriggerSavepoint asks the server for a savepoint of the running job and returns
// its id once the request is accepted; the savepoint completes (or fails) later, as
// Savepoint shows. The server refuses (409) when the job is not RUNNING or takes no
// checkpoints.
func (c *Client) TriggerSavepoint(ctx context.Context, jobID string) (string, error) {
	var r struct {
		ID string `json:"id"`
	}
	if err := c.postJSON(ctx, "/api/v1/jobs/"+url.PathEscape(jobID)+"/savepoints", nil, &r); err != nil {
		return "", err
	}
	if r.ID == "" {
		return "", errors.New("client: the reply names no savepoint")
	}
	return r.ID, nil
}

// StopJob asks the server to stop the job. With savepoint, the job takes a savepoint,
// its sources end after it, and the job ends FINISHED; StopJob returns the
// savepoint's id once the request is accepted. The server refuses a stop without a
// savepoint (400): that is a cancel, CancelJob. With drain, event time advances to
// its end before the savepoint, so every open window fires first.
func (c *Client) StopJob(ctx context.Context, jobID string, savepoint, drain bool) (string, error) {
	body := map[string]bool{"savepoint": savepoint, "drain": drain}
	var r struct {
		Savepoint string `json:"savepoint"`
	}
	if err := c.postJSON(ctx, "/api/v1/jobs/"+url.PathEscape(jobID)+"/stop", body, &r); err != nil {
		return "", err
	}
	if savepoint && r.Savepoint == "" {
		return "", errors.New("client: the reply names no savepoint")
	}
	return r.Savepoint, nil
}

// RescaleJob asks the server to run the job at a new parallelism: a parallelism for
// every step, or one for each step named in steps (step id -> parallelism); exactly
// one of the two must be given. The server stops the job with a savepoint, then runs
// it again, with the same id, restored from it; RescaleJob returns the savepoint's id
// once the request is accepted.
func (c *Client) RescaleJob(ctx context.Context, jobID string, parallelism int, steps map[string]int) (string, error) {
	var body any
	switch {
	case parallelism != 0 && len(steps) > 0:
		return "", errors.New("client: rescale takes a parallelism or steps, not both")
	case parallelism != 0:
		body = map[string]int{"parallelism": parallelism}
	case len(steps) > 0:
		body = map[string]map[string]int{"steps": steps}
	default:
		return "", errors.New("client: rescale needs a parallelism or steps")
	}
	var r struct {
		Savepoint string `json:"savepoint"`
	}
	if err := c.postJSON(ctx, "/api/v1/jobs/"+url.PathEscape(jobID)+"/rescale", body, &r); err != nil {
		return "", err
	}
	if r.Savepoint == "" {
		return "", errors.New("client: the reply names no savepoint")
	}
	return r.Savepoint, nil
}

// Savepoints lists every savepoint the server keeps, of every job.
func (c *Client) Savepoints(ctx context.Context) (*SavepointList, error) {
	l := &SavepointList{}
	raw, err := c.get(ctx, "/api/v1/savepoints", l)
	if err != nil {
		return nil, err
	}
	l.Raw = raw
	return l, nil
}

// Savepoint returns the savepoint with the given id.
func (c *Client) Savepoint(ctx context.Context, id string) (*Savepoint, error) {
	s := &Savepoint{}
	raw, err := c.get(ctx, "/api/v1/savepoints/"+url.PathEscape(id), s)
	if err != nil {
		return nil, err
	}
	s.Raw = raw
	return s, nil
}

// DeleteSavepoint deletes the savepoint's files and its record. The server refuses
// (409) while the savepoint is in progress.
func (c *Client) DeleteSavepoint(ctx context.Context, id string) error {
	req, err := c.newRequest(ctx, http.MethodDelete, "/api/v1/savepoints/"+url.PathEscape(id), nil)
	if err != nil {
		return err
	}
	_, err = c.do(req, nil)
	return err
}

// postJSON POSTs body as JSON (no body when nil) and decodes the reply into out.
func (c *Client) postJSON(ctx context.Context, path string, body, out any) error {
	var req *http.Request
	var err error
	if body == nil {
		req, err = c.newRequest(ctx, http.MethodPost, path, nil)
	} else {
		b, merr := json.Marshal(body)
		if merr != nil {
			return fmt.Errorf("encoding request body: %w", merr)
		}
		req, err = c.newRequest(ctx, http.MethodPost, path, bytes.NewReader(b))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
		}
	}
	if err != nil {
		return err
	}
	_, err = c.do(req, out)
	return err
}
