package restart

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weir-streams/weir/internal/spec"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata/*.golden from the scripts")

// TestScripts runs every testdata/*.script and compares the policy's answers with
// its .golden file. A script is a "restart:" line as a job spec writes it, then one
// event per line: an offset from the start (a Go duration) and "fail" or "run".
// Lines starting with # are comments and are copied to the output.
func TestScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.script")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			got := runScript(t, file)
			golden := strings.TrimSuffix(file, ".script") + ".golden"
			if *rewrite {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./control/restart -rewrite)", err)
			}
			if !bytes.Equal(want, got) {
				t.Fatalf("output differs from %s (run with -rewrite if intended):\n%s", golden, got)
			}
		})
	}
}

func runScript(t *testing.T, file string) []byte {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		out    bytes.Buffer
		policy Policy
		start  = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		failed bool
	)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			fmt.Fprintln(&out, line)
			continue
		case strings.HasPrefix(line, "restart:"):
			r := parseRestart(t, line)
			b, _ := json.Marshal(r)
			fmt.Fprintf(&out, "%s\n  = %s\n", line, b)
			policy = New(r)
			continue
		}
		if policy == nil {
			t.Fatalf("%s:%d: an event before the restart line", file, n)
		}
		at, event, ok := strings.Cut(line, " ")
		offset, err := time.ParseDuration(at)
		if !ok || err != nil {
			t.Fatalf("%s:%d: want <offset> fail|run, got %q", file, n, line)
		}
		now := start.Add(offset)
		switch event {
		case "fail":
			if failed {
				t.Fatalf("%s:%d: the job failed already", file, n)
			}
			d, ok := policy.Failure(now)
			if ok {
				fmt.Fprintf(&out, "%-8s fail -> restart after %v (restarts: %d)\n", at, d, policy.Restarts())
			} else {
				fmt.Fprintf(&out, "%-8s fail -> job fails (restarts: %d)\n", at, policy.Restarts())
				failed = true
			}
		case "run":
			policy.Running(now)
			fmt.Fprintf(&out, "%-8s run\n", at)
		default:
			t.Fatalf("%s:%d: unknown event %q", file, n, event)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// parseRestart reads a restart line through the job spec parser, so that scripts
// get the spec's defaults and validation. "restart: absent" leaves the key out.
func parseRestart(t *testing.T, line string) spec.Restart {
	t.Helper()
	if line == "restart: absent" {
		line = ""
	}
	job, err := spec.Parse([]byte("name: t\n" + line + `
pipeline:
  - source: { jetstream: { stream: S } }
  - sink: { jetstream: { subject: o } }
`))
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	return job.Restart
}

func TestUnknownStrategyRestartsNothing(t *testing.T) {
	p := New(spec.Restart{Strategy: "teleport"})
	if _, ok := p.Failure(time.Now()); ok || p.Restarts() != 0 {
		t.Fatal("an unknown strategy restarted")
	}
}

func TestExponentialSaturates(t *testing.T) {
	p := New(spec.Restart{Strategy: spec.RestartExponentialDelay, Initial: time.Second, Max: 24 * time.Hour, Multiplier: 1000, ResetAfter: time.Hour})
	now := time.Now()
	var d time.Duration
	for range 100 {
		d, _ = p.Failure(now)
	}
	if d != 24*time.Hour {
		t.Fatalf("delay %v after 100 failures", d)
	}
}
