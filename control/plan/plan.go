package plan

import (
	"fmt"
	"strings"

	"github.com/weir-streams/weir/internal/jobgraph"
	"github.com/weir-streams/weir/internal/spec"
)

// Error is a planning error that names the step field at fault.
type Error struct {
	Msg          string
	Field        string
	Line, Column int
}

func (e *Error) Error() string {
	if e.Field != "" {
		return e.Field + ": " + e.Msg
	}
	return e.Msg
}

// node is a step that runs (partition steps only shape edges).
type node struct {
	index int // in the spec's pipeline
	step  spec.Step
	par   int
	// input is the node this one reads, -1 for sources; part the edge's partitioning.
	input int
	part  string
	// explicit says the partitioning was written in the spec.
	explicit bool
	outputs  []int
}

// Build plans job. The job must have passed spec validation.
func Build(job *spec.Job) (*jobgraph.JobGraph, error) {
	byID := map[string]int{}
	for i, s := range job.Steps {
		byID[s.ID] = i
	}
	nodes := map[int]*node{}
	var order []int
	for i, s := range job.Steps {
		if s.Kind == spec.KindPartition {
			continue
		}
		n := &node{index: i, step: s, par: s.EffectiveParallelism(job.Parallelism), input: -1}
		if s.Kind == spec.KindSource {
			if s.Parallelism > 1 {
				return nil, &Error{Msg: "a source without partitions runs with parallelism 1", Field: fmt.Sprintf("pipeline[%d].parallelism", i), Line: s.Line, Column: s.Column}
			}
			n.par = 1
		} else {
			// Follow the input through partition steps to the node it reads.
			in := byID[s.Input]
			for job.Steps[in].Kind == spec.KindPartition {
				if !n.explicit {
					n.part, n.explicit = string(job.Steps[in].Partition), true
				}
				in = byID[job.Steps[in].Input]
			}
			n.input = in
		}
		nodes[i] = n
		order = append(order, i)
	}
	for _, i := range order {
		n := nodes[i]
		if n.input < 0 {
			continue
		}
		up := nodes[n.input]
		up.outputs = append(up.outputs, i)
		if !n.explicit {
			n.part = jobgraph.Rebalance
			if up.par == n.par {
				n.part = jobgraph.Forward
			}
		}
		if n.part == jobgraph.Forward && up.par != n.par {
			return nil, &Error{
				Msg:   fmt.Sprintf("forward partitioning needs equal parallelism on both sides, but %q has %d and %q has %d", up.step.ID, up.par, n.step.ID, n.par),
				Field: fmt.Sprintf("pipeline[%d]", i), Line: n.step.Line, Column: n.step.Column,
			}
		}
	}
	// Chain: a node joins its input's vertex when the edge is an implicit or explicit
	// forward, parallelism and slot sharing group match, chaining is on for both,
	// and the input feeds this node alone.
	vertexOf := map[int]int{}
	g := &jobgraph.JobGraph{}
	for _, i := range order {
		n := nodes[i]
		if n.input >= 0 {
			up := nodes[n.input]
			if n.part == jobgraph.Forward && up.par == n.par && n.step.Chain && up.step.Chain &&
				len(up.outputs) == 1 && up.step.SlotSharingGroup == n.step.SlotSharingGroup {
				v := vertexOf[n.input]
				g.Vertices[v].Steps = append(g.Vertices[v].Steps, n.step)
				vertexOf[i] = v
				continue
			}
		}
		vertexOf[i] = len(g.Vertices)
		g.Vertices = append(g.Vertices, jobgraph.Vertex{ID: n.step.ID, Parallelism: n.par, Steps: []spec.Step{n.step}})
	}
	for _, i := range order {
		n := nodes[i]
		if n.input < 0 || vertexOf[n.input] == vertexOf[i] {
			continue
		}
		g.Edges = append(g.Edges, jobgraph.Edge{
			ID:           len(g.Edges),
			From:         g.Vertices[vertexOf[n.input]].ID,
			To:           g.Vertices[vertexOf[i]].ID,
			Partitioning: n.part,
		})
	}
	for v := range g.Vertices {
		names := make([]string, len(g.Vertices[v].Steps))
		for k, s := range g.Vertices[v].Steps {
			names[k] = s.ID
		}
		g.Vertices[v].Name = strings.Join(names, " -> ")
	}
	return g, nil
}

// Descriptors returns the deployment descriptors of every subtask of g for one
// attempt, vertex by vertex and subtask by subtask.
func Descriptors(g *jobgraph.JobGraph, job *spec.Job, jobID string, attempt uint64, resume map[string]uint64) []jobgraph.TaskDescriptor {
	var out []jobgraph.TaskDescriptor
	for _, v := range g.Vertices {
		var inputs, outputs []jobgraph.Gate
		for _, e := range g.Edges {
			if e.To == v.ID {
				inputs = append(inputs, jobgraph.Gate{Edge: e.ID, Peer: e.From, PeerParallel: g.Vertex(e.From).Parallelism, Partitioning: e.Partitioning})
			}
			if e.From == v.ID {
				outputs = append(outputs, jobgraph.Gate{Edge: e.ID, Peer: e.To, PeerParallel: g.Vertex(e.To).Parallelism, Partitioning: e.Partitioning})
			}
		}
		var res map[string]uint64
		if v.Steps[0].Kind == spec.KindSource && resume[v.Steps[0].ID] > 0 {
			res = map[string]uint64{v.Steps[0].ID: resume[v.Steps[0].ID]}
		}
		for i := 0; i < v.Parallelism; i++ {
			out = append(out, jobgraph.TaskDescriptor{
				Task:          jobgraph.TaskID{JobID: jobID, Attempt: attempt, Vertex: v.ID, Subtask: i},
				Parallelism:   v.Parallelism,
				Steps:         v.Steps,
				Inputs:        inputs,
				Outputs:       outputs,
				BufferTimeout: job.BufferTimeout,
				ResumeAfter:   res,
			})
		}
	}
	return out
}
