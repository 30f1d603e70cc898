package control

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weir-streams/weir/control/checkpoint"
	"github.com/weir-streams/weir/internal/jobgraph"
	"github.com/weir-streams/weir/internal/keygroup"
	"github.com/weir-streams/weir/internal/spec"
)

// snapshotOf is a checkpoint of vertex v at parallelism p, each subtask's handle
// naming it, plus a source with two partitions.
func snapshotOf(v string, p int) *checkpoint.Metadata {
	m := &checkpoint.Metadata{ID: 7, Tasks: map[string]checkpoint.TaskSnapshot{}}
	for j := range p {
		name := fmt.Sprintf("%s[%d]", v, j)
		m.Tasks[name] = checkpoint.TaskSnapshot{Task: name, Handle: json.RawMessage(fmt.Sprintf("%q", name))}
	}
	m.Tasks["src[0]"] = checkpoint.TaskSnapshot{Task: "src[0]", Positions: map[string]uint64{"src[0]": 10, "src[1]": 20}}
	return m
}

func descriptors(v string, p int) []jobgraph.TaskDescriptor {
	out := []jobgraph.TaskDescriptor{{Task: jobgraph.TaskID{Vertex: "src"}, Parallelism: 1, Steps: []spec.Step{{ID: "src", Kind: spec.KindSource}}}}
	for i := range p {
		out = append(out, jobgraph.TaskDescriptor{Task: jobgraph.TaskID{Vertex: v, Subtask: i}, Parallelism: p, Steps: []spec.Step{{ID: v, Kind: spec.KindProcess}}})
	}
	return out
}

// TestRestoreDescriptorsRescale checks, against key-group ranges computed
// independently, that every new subtask restores exactly the old snapshots whose
// ranges overlap its own, and that each old subtask's operator state goes to
// exactly one new subtask.
func TestRestoreDescriptorsRescale(t *testing.T) {
	const maxP = 128
	for _, tc := range []struct{ from, to int }{{2, 1}, {1, 3}, {3, 2}, {2, 2}, {4, 7}} {
		t.Run(fmt.Sprintf("%d->%d", tc.from, tc.to), func(t *testing.T) {
			descs := descriptors("count", tc.to)
			restoreDescriptors(snapshotOf("count", tc.from), descs, maxP, false)
			require.Equal(t, map[string]uint64{"src[0]": 10, "src[1]": 20}, descs[0].ResumeAfter)
			owners := map[int]int{} // old subtask -> new subtasks keeping its operator state
			for _, d := range descs[1:] {
				first, last := keygroup.Range(d.Task.Subtask, maxP, tc.to)
				var want []string
				for j := range tc.from {
					of, ol := keygroup.Range(j, maxP, tc.from)
					if of <= last && first <= ol || j%tc.to == d.Task.Subtask {
						want = append(want, fmt.Sprintf("%q", fmt.Sprintf("count[%d]", j)))
					}
				}
				var got []string
				for k, h := range d.Restore.Handles {
					got = append(got, string(h))
					if d.Restore.KeepOperatorState[k] {
						var name string
						require.NoError(t, json.Unmarshal(h, &name))
						var j int
						fmt.Sscanf(name, "count[%d]", &j)
						owners[j]++
					}
				}
				require.Equal(t, want, got, "subtask %d", d.Task.Subtask)
				require.Equal(t, uint64(7), d.Restore.CheckpointID)
			}
			for j := range tc.from {
				require.Equal(t, 1, owners[j], "old subtask %d's operator state", j)
			}
			// Every key group is covered by the new subtask that owns it.
			for kg := range maxP {
				i := keygroup.Subtask(kg, maxP, tc.to)
				j := keygroup.Subtask(kg, maxP, tc.from)
				require.Contains(t, func() []string {
					var s []string
					for _, h := range descs[1+i].Restore.Handles {
						s = append(s, string(h))
					}
					return s
				}(), fmt.Sprintf("%q", fmt.Sprintf("count[%d]", j)), "key group %d", kg)
			}
		})
	}
}
