package plan

import (
	"bytes"
	"encoding/json"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weir-streams/weir/internal/jobgraph"
	"github.com/weir-streams/weir/internal/spec"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden plans in testdata")

// TestGolden plans every testdata/*.yaml and compares vertices, chaining and edges
// with testdata/*.plan.json.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no specs in testdata: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			job, err := spec.Parse(src)
			if err != nil {
				t.Fatal(err)
			}
			g, err := Build(job)
			if err != nil {
				t.Fatal(err)
			}
			type vertex struct {
				ID, Name    string
				Parallelism int
			}
			view := struct {
				Vertices []vertex
				Edges    any
				Tasks    []string
			}{Edges: g.Edges}
			for _, v := range g.Vertices {
				view.Vertices = append(view.Vertices, vertex{v.ID, v.Name, v.Parallelism})
			}
			for _, d := range Descriptors(g, job, "job", 1, map[string]uint64{"src": 41}) {
				// A gate of a side output shows its tag: <-peer#tag/partitioning.
				gate := func(g jobgraph.Gate) string {
					if g.Tag != "" {
						return g.Peer + "#" + g.Tag + "/" + g.Partitioning
					}
					return g.Peer + "/" + g.Partitioning
				}
				in, out := "", ""
				for _, g := range d.Inputs {
					in += " <-" + gate(g)
				}
				for _, g := range d.Outputs {
					out += " ->" + gate(g)
				}
				resume := ""
				if d.ResumeAfter != nil {
					resume = " resume"
				}
				view.Tasks = append(view.Tasks, strings.TrimSpace(d.Task.String()+in+out+resume))
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			_ = enc.Encode(view)
			got := buf.Bytes()
			golden := strings.TrimSuffix(f, ".yaml") + ".plan.json"
			if *rewrite {
				if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -rewrite)", err)
			}
			if strings.TrimSpace(string(want)) != strings.TrimSpace(string(got)) {
				t.Fatalf("plan differs from %s:\n%s", golden, got)
			}
		})
	}
}

func TestForwardNeedsEqualParallelism(t *testing.T) {
	job, err := spec.Parse([]byte(`name: x
pipeline:
  - id: src
    source: { jetstream: { stream: S } }
  - id: m
    map: { module: m, function: f }
    parallelism: 2
  - id: out
    sink: { jetstream: { subject: o } }
`))
	if err != nil {
		t.Fatal(err)
	}
	job.Steps[0].Parallelism = 3
	if _, err := Build(job); err == nil || !strings.Contains(err.Error(), "parallelism 1") {
		t.Fatalf("a parallel unpartitioned source: %v", err)
	}
}

func TestDescriptorsCarryMaxParallelism(t *testing.T) {
	for _, c := range []struct {
		spec string
		want int
	}{
		{"", spec.DefaultMaxParallelism},
		{"max_parallelism: 4\n", 4},
		{"max_parallelism: 32768\n", 32768},
	} {
		job := keyedJob(t, c.spec)
		g, err := Build(job)
		if err != nil {
			t.Fatal(err)
		}
		ds := Descriptors(g, job, "job", 1, nil)
		if len(ds) != 1+4+1 {
			t.Fatalf("%d descriptors", len(ds))
		}
		for _, d := range ds {
			if d.MaxParallelism != c.want {
				t.Errorf("%s: max parallelism %d, want %d", d.Task, d.MaxParallelism, c.want)
			}
		}
	}
}

// TestBuildRefusesWhatValidationRefuses: Build checks again what it relies on, for
// jobs built or changed in code without Validate.
func TestBuildRefusesWhatValidationRefuses(t *testing.T) {
	for _, c := range []struct {
		change func(*spec.Job)
		want   string
	}{
		{func(j *spec.Job) { j.MaxParallelism = 40000 }, "max_parallelism: must be between 1 and 32768, got 40000"},
		{func(j *spec.Job) { j.MaxParallelism = 2 }, "pipeline[2].parallelism: parallelism 4 is above max_parallelism (2)"},
		{func(j *spec.Job) {
			j.Steps = append(j.Steps[:2], append([]spec.Step{{ID: "p", Kind: spec.KindPartition, Partition: spec.PartitionRebalance, Input: "by"}}, j.Steps[2:]...)...)
			j.Steps[3].Input = "p"
		}, "pipeline[3]: a partition step cannot read a key_by step"},
	} {
		job := keyedJob(t, "")
		c.change(job)
		if _, err := Build(job); err == nil || err.Error() != c.want {
			t.Errorf("got %v, want %s", err, c.want)
		}
	}
}

// keyedJob parses a job keyed right after its source, with top, a YAML fragment,
// among its top-level keys.
func keyedJob(t *testing.T, top string) *spec.Job {
	t.Helper()
	job, err := spec.Parse([]byte("name: x\n" + top + `pipeline:
  - id: src
    source: { jetstream: { stream: S } }
  - id: by
    key_by: { json_field: k }
  - id: m
    map: { module: m, function: f }
    parallelism: 4
  - id: out
    sink: { jetstream: { subject: o } }
`))
	if err != nil {
		t.Fatal(err)
	}
	return job
}

// A restarted partitioned source resumes each partition after its own position,
// and never takes another source's.
func TestDescriptorsResumePartitions(t *testing.T) {
	job, err := spec.Parse([]byte(`name: x
parallelism: 2
pipeline:
  - id: src
    source: { jetstream: { stream: S, subjects: [s.*], partitions: { count: 4, token: 2 } } }
  - id: out
    sink: { jetstream: { subject: o } }
`))
	if err != nil {
		t.Fatal(err)
	}
	g, err := Build(job)
	if err != nil {
		t.Fatal(err)
	}
	saved := map[string]uint64{"src[0]": 5, "src[3]": 9, "src[1]": 0, "srcx[0]": 7, "other": 3}
	want := map[string]uint64{"src[0]": 5, "src[3]": 9}
	n := 0
	for _, d := range Descriptors(g, job, "job", 2, saved) {
		if d.Steps[0].Kind != spec.KindSource {
			continue
		}
		n++
		if !maps.Equal(d.ResumeAfter, want) {
			t.Errorf("%s resumes after %v, want %v", d.Task, d.ResumeAfter, want)
		}
	}
	if n != 2 {
		t.Fatalf("%d source subtasks, want 2", n)
	}
}
