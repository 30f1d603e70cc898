package plan

import (
	"fmt"
	"strings"

	"github.com/weir-streams/weir/internal/jobgraph"
	"github.com/weir-streams/weir/internal/keygroup"
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
	// ins are the nodes this one reads, in the step's input order; none for
	// sources.
	ins     []input
	outputs []int
	// mainReaders counts the nodes reading this one's main output.
	mainReaders int
}

// input is one edge into a node.
type input struct {
	node int // the node read
	// part is the edge's partitioning; explicit says a partition step or the
	// step kinds set it.
	part     string
	explicit bool
	// tag names the side output of node read; "" for the main one.
	tag string
	// stepID is the id of the step node runs.
	stepID string
}

// Build plans job. The job must have passed spec validation.
func Build(job *spec.Job) (*jobgraph.JobGraph, error) {
	maxP := maxParallelism(job)
	if err := keygroup.Check(maxP, 1); err != nil {
		return nil, &Error{Msg: fmt.Sprintf("must be between 1 and %d, got %d", keygroup.MaxParallelism, maxP), Field: "max_parallelism"}
	}
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
		n := &node{index: i, step: s, par: s.EffectiveParallelism(job.Parallelism)}
		if s.Kind == spec.KindSource {
			// An unpartitioned stream has one reader; a partitioned one has as many as
			// the step's parallelism (subtasks beyond the partition count stay idle).
			if s.Source == nil || s.Source.Partitions == nil {
				if s.Parallelism > 1 {
					return nil, &Error{Msg: "a source without partitions runs with parallelism 1; set source.jetstream.partitions to read in parallel", Field: fmt.Sprintf("pipeline[%d].parallelism", i), Line: s.Line, Column: s.Column}
				}
				n.par = 1
			}
		}
		for _, r := range s.Reads() {
			// Follow the input through partition steps to the node it reads. The
			// side output read is the one the step reading that node names: a
			// partition step may read one (input: <step>#<name>) for the step
			// after it.
			in := input{node: byID[r.ID], tag: r.Tag}
			for job.Steps[in.node].Kind == spec.KindPartition {
				p := job.Steps[in.node]
				if !in.explicit {
					in.part, in.explicit = partitioning(p.Partition), true
				}
				in.node, in.tag = byID[p.Input], p.InputTag
			}
			up := nodes[in.node]
			in.stepID = up.step.ID
			switch {
			case s.Kind == spec.KindWindow && up.step.Kind != spec.KindKeyBy:
				// A window of a non-keyed stream (windowAll) sees every record:
				// one subtask behind a global edge.
				in.part, in.explicit = jobgraph.Global, true
			case s.Kind == spec.KindKeyBy:
				// A key_by runs at the tail of the chain it keys (the sender
				// side of the hash edge): same subtasks, so a forward edge.
				if in.explicit {
					return nil, &Error{Msg: "a key_by step cannot read a partition step", Field: fmt.Sprintf("pipeline[%d]", i), Line: s.Line, Column: s.Column}
				}
				n.par, in.part, in.explicit = up.par, jobgraph.Forward, true
				n.step.SlotSharingGroup = up.step.SlotSharingGroup
			case up.step.Kind == spec.KindKeyBy && in.tag == "":
				if in.explicit {
					return nil, &Error{Msg: "a partition step cannot read a key_by step", Field: fmt.Sprintf("pipeline[%d]", i), Line: s.Line, Column: s.Column}
				}
				in.part, in.explicit = jobgraph.Hash, true
			}
			n.ins = append(n.ins, in)
		}
		if n.par > maxP {
			return nil, &Error{
				Msg:   fmt.Sprintf("parallelism %d is above max_parallelism (%d)", n.par, maxP),
				Field: fmt.Sprintf("pipeline[%d].parallelism", i), Line: s.Line, Column: s.Column,
			}
		}
		nodes[i] = n
		order = append(order, i)
	}
	for _, i := range order {
		n := nodes[i]
		for k := range n.ins {
			in := &n.ins[k]
			up := nodes[in.node]
			up.outputs = append(up.outputs, i)
			if in.tag == "" {
				up.mainReaders++
			}
			if !in.explicit {
				in.part = jobgraph.Rebalance
				if up.par == n.par {
					in.part = jobgraph.Forward
				}
			}
			if in.part == jobgraph.Forward && up.par != n.par {
				return nil, &Error{
					Msg:   fmt.Sprintf("forward partitioning needs equal parallelism on both sides, but %q has %d and %q has %d", up.step.ID, up.par, n.step.ID, n.par),
					Field: fmt.Sprintf("pipeline[%d]", i), Line: n.step.Line, Column: n.step.Column,
				}
			}
		}
	}
	// Chain: a node joins its input's vertex when the edge is an implicit or explicit
	// forward, parallelism and slot sharing group match, chaining is on for both (a
	// key_by, which belongs to the edge after it, ignores chain), and the input
	// feeds this node alone. A node of several inputs starts a vertex.
	vertexOf := map[int]int{}
	g := &jobgraph.JobGraph{}
	for _, i := range order {
		n := nodes[i]
		if len(n.ins) == 1 && !n.step.Kind.MultiInput() {
			in := n.ins[0]
			up := nodes[in.node]
			chain := n.step.Chain && up.step.Chain || n.step.Kind == spec.KindKeyBy
			// A side output always crosses an edge of its own.
			if in.part == jobgraph.Forward && up.par == n.par && chain && in.tag == "" &&
				up.mainReaders == 1 && up.step.SlotSharingGroup == n.step.SlotSharingGroup {
				v := vertexOf[in.node]
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
		for k, in := range n.ins {
			if vertexOf[in.node] == vertexOf[i] {
				continue
			}
			g.Edges = append(g.Edges, jobgraph.Edge{
				ID:           len(g.Edges),
				From:         g.Vertices[vertexOf[in.node]].ID,
				To:           g.Vertices[vertexOf[i]].ID,
				Partitioning: in.part,
				Tag:          in.tag,
				TagStep:      tagStep(in),
				Input:        k,
			})
		}
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

// tagStep is the step declaring the side output an input reads, "" for a main
// output.
func tagStep(in input) string {
	if in.tag == "" {
		return ""
	}
	return in.stepID
}

// maxParallelism is the job's number of key groups, with the spec's default for a
// job that was never defaulted.
func maxParallelism(job *spec.Job) int {
	if job.MaxParallelism == 0 {
		return spec.DefaultMaxParallelism
	}
	return job.MaxParallelism
}

// partitioning maps a partition step's partitioning to an edge's. The names are
// the same; the mapping keeps the two vocabularies apart.
func partitioning(p spec.Partitioning) string {
	switch p {
	case spec.PartitionForward:
		return jobgraph.Forward
	case spec.PartitionRebalance:
		return jobgraph.Rebalance
	case spec.PartitionRescale:
		return jobgraph.Rescale
	case spec.PartitionBroadcast:
		return jobgraph.Broadcast
	case spec.PartitionGlobal:
		return jobgraph.Global
	}
	return string(p)
}

// Descriptors returns the deployment descriptors of every subtask of g for one
// attempt, vertex by vertex and subtask by subtask.
func Descriptors(g *jobgraph.JobGraph, job *spec.Job, jobID string, attempt uint64, resume map[string]uint64) []jobgraph.TaskDescriptor {
	var out []jobgraph.TaskDescriptor
	for _, v := range g.Vertices {
		var inputs, outputs []jobgraph.Gate
		for _, e := range g.Edges {
			if e.To == v.ID {
				inputs = append(inputs, jobgraph.Gate{Edge: e.ID, Peer: e.From, PeerParallel: g.Vertex(e.From).Parallelism, Partitioning: e.Partitioning, Tag: e.Tag, TagStep: e.TagStep, Input: e.Input})
			}
			if e.From == v.ID {
				outputs = append(outputs, jobgraph.Gate{Edge: e.ID, Peer: e.To, PeerParallel: g.Vertex(e.To).Parallelism, Partitioning: e.Partitioning, Tag: e.Tag, TagStep: e.TagStep})
			}
		}
		var res map[string]uint64
		if src := v.Steps[0]; src.Kind == spec.KindSource {
			res = sourcePositions(src.ID, resume)
		}
		var cp *jobgraph.Checkpointing
		if c := job.Checkpointing; c != nil {
			cp = &jobgraph.Checkpointing{ExactlyOnce: c.Mode == spec.ExactlyOnce}
		}
		for i := 0; i < v.Parallelism; i++ {
			out = append(out, jobgraph.TaskDescriptor{
				Task:           jobgraph.TaskID{JobID: jobID, Attempt: attempt, Vertex: v.ID, Subtask: i},
				JobName:        job.Name,
				Checkpointing:  cp,
				Parallelism:    v.Parallelism,
				MaxParallelism: maxParallelism(job),
				Steps:          v.Steps,
				Inputs:         inputs,
				Outputs:        outputs,
				BufferTimeout:  job.BufferTimeout,
				ResumeAfter:    res,
			})
		}
	}
	return out
}

// sourcePositions returns the saved positions of the source step id: under its id
// for an unpartitioned stream, under spec.PartitionPosition(id, p) for each
// partition p of a partitioned one. Nil when there are none.
func sourcePositions(id string, resume map[string]uint64) map[string]uint64 {
	var out map[string]uint64
	for k, v := range resume {
		if v > 0 && (k == id || strings.HasPrefix(k, id+"[")) {
			if out == nil {
				out = map[string]uint64{}
			}
			out[k] = v
		}
	}
	return out
}
