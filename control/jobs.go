package control

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/weir-streams/weir/control/plan"
	"github.com/weir-streams/weir/internal/api"
	"github.com/weir-streams/weir/internal/jobgraph"
	"github.com/weir-streams/weir/internal/meta"
	"github.com/weir-streams/weir/internal/spec"
	"github.com/weir-streams/weir/wasmhost"
)

// Job statuses (DESIGN §6).
const (
	StatusCreated    = "CREATED"
	StatusRunning    = "RUNNING"
	StatusFailing    = "FAILING"
	StatusRestarting = "RESTARTING"
	StatusCanceled   = "CANCELED"
	StatusFinished   = "FINISHED"
	StatusFailed     = "FAILED"
)

func isTerminal(status string) bool {
	return status == StatusCanceled || status == StatusFinished || status == StatusFailed
}

// maxExceptions is how many failures a job record keeps.
const maxExceptions = 20

// JobRecord is a job as stored in the metadata bucket.
type JobRecord struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Status    string    `json:"status"`
	Reason    string    `json:"reason,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// SpecText is the spec as submitted.
	SpecText string `json:"spec"`
	// Job is the parsed spec with every module pinned to a digest.
	Job *spec.Job `json:"job"`
	// Modules maps each module name the job uses to the digest it pinned.
	Modules map[string]string `json:"modules"`
	Attempt uint64            `json:"attempt"`
	// FromSavepoint is the savepoint the job started from, or was last rescaled
	// from.
	FromSavepoint string `json:"from_savepoint,omitempty"`
	// LastCheckpointID is the newest checkpoint committed, so that checkpoint ids
	// keep growing across control plane restarts.
	LastCheckpointID uint64        `json:"last_checkpoint_id,omitempty"`
	Exceptions       []api.Failure `json:"exceptions,omitempty"`
}

func jobKey(id string) string      { return "jobs." + id }
func progressKey(id string) string { return "progress." + id }

func newJobID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// resolveModules pins every UDF step of job to a module digest and checks that the
// function exists with the kind the step needs.
func (c *Control) resolveModules(ctx context.Context, job *spec.Job) (map[string]string, error) {
	pinned := map[string]string{}
	// The side outputs each step's own function declares, by step id.
	sideOutputs := map[string][]string{}
	for i := range job.Steps {
		s := &job.Steps[i]
		for _, f := range s.Functions() {
			fn, err := c.resolveFunction(ctx, s, f, fmt.Sprintf("pipeline[%d].%s", i, f.Field), pinned)
			if err != nil {
				return nil, err
			}
			if f.Ref == s.UDF && s.Kind != spec.KindWindow {
				sideOutputs[s.ID] = fn.SideOutputs
			}
		}
	}
	// A step reading a function's side output names one the function declares.
	for i := range job.Steps {
		s := &job.Steps[i]
		for k, r := range s.Reads() {
			declared, ok := sideOutputs[r.ID]
			if r.Tag == "" || !ok || slices.Contains(declared, r.Tag) {
				continue
			}
			field := fmt.Sprintf("pipeline[%d].input", i)
			if len(s.Inputs) > 0 {
				field = fmt.Sprintf("pipeline[%d].inputs[%d]", i, k)
			}
			has := "declares no side outputs"
			if len(declared) > 0 {
				has = "declares " + strings.Join(declared, ", ")
			}
			return nil, invalid(field, s.Line, s.Column, "step %q has no side output %q: its function %s", r.ID, r.Tag, has)
		}
	}
	return pinned, nil
}

// resolveFunction pins function f of step s to a module digest and checks that
// it exists with the kind the step needs.
func (c *Control) resolveFunction(ctx context.Context, s *spec.Step, f spec.StepFunction, field string, pinned map[string]string) (*wasmhost.Function, error) {
	u := f.Ref
	rec, _, err := c.getModule(ctx, u.Module)
	if errors.Is(err, ErrNotFound) {
		return nil, invalid(field+".module", s.Line, s.Column, "unknown module %q: upload it first (POST /api/v1/modules?name=%s)", u.Module, u.Module)
	}
	if err != nil {
		return nil, err
	}
	v := &rec.ModuleVersion
	if u.Digest != "" {
		if v = rec.version(meta.DigestPrefix + u.Digest); v == nil {
			return nil, invalid(field+".module", s.Line, s.Column, "module %q has no upload with digest sha256:%s", u.Module, u.Digest)
		}
	}
	var fn *wasmhost.Function
	names := make([]string, 0, len(v.Functions))
	for k := range v.Functions {
		names = append(names, v.Functions[k].Name)
		if v.Functions[k].Name == u.Function {
			fn = &v.Functions[k]
		}
	}
	if fn == nil {
		sort.Strings(names)
		return nil, invalid(field+".function", s.Line, s.Column, "module %q has no function %q (it has: %s)", u.Module, u.Function, strings.Join(names, ", "))
	}
	if fn.Kind != f.Kind {
		needs := ""
		if f.Kind != string(s.Kind) {
			needs = ", which needs a " + f.Kind + " function"
		}
		return nil, invalid(field+".function", s.Line, s.Column, "function %q of module %q is a %s function, but this step is a %s%s", fn.Name, u.Module, fn.Kind, s.Kind, needs)
	}
	if prev, ok := pinned[u.Module]; ok && prev != v.Digest {
		return nil, invalid(field+".module", s.Line, s.Column, "module %q is used with two digests in one job", u.Module)
	}
	pinned[u.Module] = v.Digest
	u.Digest = strings.TrimPrefix(v.Digest, meta.DigestPrefix)
	return fn, nil
}

// submitJob parses, resolves and plans a spec; unless dryRun it stores the job and
// starts its job master.
func (c *Control) submitJob(ctx context.Context, text []byte, dryRun bool) (*JobRecord, *jobgraph.JobGraph, error) {
	job, err := spec.Parse(text)
	if err != nil {
		return nil, nil, err
	}
	pinned, err := c.resolveModules(ctx, job)
	if err != nil {
		return nil, nil, err
	}
	if err := c.checkExactlyOnceSinks(ctx, job); err != nil {
		return nil, nil, err
	}
	graph, err := plan.Build(job)
	if err != nil {
		return nil, nil, err
	}
	if err := c.checkFromSavepoint(ctx, job, graph); err != nil {
		return nil, nil, err
	}
	now := time.Now().UTC()
	rec := &JobRecord{
		ID: newJobID(), Name: job.Name, Status: StatusCreated, CreatedAt: now, UpdatedAt: now,
		SpecText: string(text), Job: job, Modules: pinned, FromSavepoint: job.FromSavepoint,
	}
	if dryRun {
		return rec, graph, nil
	}
	rev, err := c.store.put(ctx, jobKey(rec.ID), 0, rec)
	if err != nil {
		return nil, nil, err
	}
	c.startJobMaster(rec, rev, graph, nil)
	return rec, graph, nil
}
