package control

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
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
	for i := range job.Steps {
		s := &job.Steps[i]
		if s.UDF == nil {
			continue
		}
		field := fmt.Sprintf("pipeline[%d].%s", i, s.Kind)
		rec, _, err := c.getModule(ctx, s.UDF.Module)
		if errors.Is(err, ErrNotFound) {
			return nil, invalid(field+".module", s.Line, s.Column, "unknown module %q: upload it first (POST /api/v1/modules?name=%s)", s.UDF.Module, s.UDF.Module)
		}
		if err != nil {
			return nil, err
		}
		v := &rec.ModuleVersion
		if s.UDF.Digest != "" {
			if v = rec.version(meta.DigestPrefix + s.UDF.Digest); v == nil {
				return nil, invalid(field+".module", s.Line, s.Column, "module %q has no upload with digest sha256:%s", s.UDF.Module, s.UDF.Digest)
			}
		}
		var fn *wasmhost.Function
		names := make([]string, 0, len(v.Functions))
		for k := range v.Functions {
			names = append(names, v.Functions[k].Name)
			if v.Functions[k].Name == s.UDF.Function {
				fn = &v.Functions[k]
			}
		}
		if fn == nil {
			sort.Strings(names)
			return nil, invalid(field+".function", s.Line, s.Column, "module %q has no function %q (it has: %s)", s.UDF.Module, s.UDF.Function, strings.Join(names, ", "))
		}
		if want := s.FunctionKind(); fn.Kind != want {
			needs := ""
			if want != string(s.Kind) {
				needs = ", which needs a " + want + " function"
			}
			return nil, invalid(field+".function", s.Line, s.Column, "function %q of module %q is a %s function, but this step is a %s%s", fn.Name, s.UDF.Module, fn.Kind, s.Kind, needs)
		}
		if prev, ok := pinned[s.UDF.Module]; ok && prev != v.Digest {
			return nil, invalid(field+".module", s.Line, s.Column, "module %q is used with two digests in one job", s.UDF.Module)
		}
		pinned[s.UDF.Module] = v.Digest
		s.UDF.Digest = strings.TrimPrefix(v.Digest, meta.DigestPrefix)
	}
	return pinned, nil
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
