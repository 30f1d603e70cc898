package spec

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds Parse arbitrary documents. Parse must never panic; it either
// returns a job that is valid and survives a JSON round trip, or a *Error with a
// message, and it does the same on the same input.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob("testdata/*")
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"", "~", "---\n---\n", "a: &a [*a]", "a: &a {<<: *a}", "<<: 5", "{\"a\": \"\\ud800\"}",
		"name: x\npipeline: [{source: {jetstream: {stream: S}}}, {sink: {jetstream: {subject: o}}}]",
		"name: x\npipeline: [{source: {jetstream: {stream: S}}}, {map: {module: m, function: f}, config: {a: [1, {b: ~}]}}, {sink: {jetstream: {subject: o}}}]",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		job, err := Parse(data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not a *Error: %v", err, err)
			}
			if e.Msg == "" || e.Line < 0 || e.Column < 0 {
				t.Fatalf("malformed error %#v", e)
			}
			if _, again := Parse(data); again == nil || again.Error() != err.Error() {
				t.Fatalf("not deterministic: %v, then %v", err, again)
			}
			return
		}
		if err := job.Validate(); err != nil {
			t.Fatalf("Parse returned a job that Validate refuses: %v", err)
		}
		b, err := json.Marshal(job)
		if err != nil {
			t.Fatalf("marshalling: %v", err)
		}
		var back Job
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("unmarshalling %s: %v", b, err)
		}
		b2, err := json.Marshal(&back)
		if err != nil || string(b) != string(b2) {
			t.Fatalf("round trip changed the job:\n%s\n%s", b, b2)
		}
		for _, s := range job.Steps {
			if s.Config != nil && !json.Valid(s.Config) {
				t.Fatalf("invalid config JSON %s", s.Config)
			}
		}
	})
}
