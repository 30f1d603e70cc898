package checkpoint

import (
	"bufio"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output in testdata/*.txt")

// TestInteraction runs the scripted scenarios in testdata/*.txt. A scenario is a
// sequence of blocks: comment lines (#), one command, a "----" line and the
// expected output, ended by a blank line. The commands (durations in Go syntax,
// times printed as offsets from the start):
//
//	new interval=D [timeout=D min_pause=D max_concurrent=N tolerable=N retain=N] tasks=a,b [next=N]
//	tick D                      advance the clock by D, then Tick
//	ack ID TASK [objects=a,b size=N uploaded=N pos=k:v,.. align=D sync=D async=D]
//	decline ID TASK "reason"
//	committed ID | commit-failed ID "reason"
//	savepoint SP-ID
//	suspend "reason" | resume tasks=a,b [restored=N]
//	drop ID | latest | retained | history | orphans a,b,...
func TestInteraction(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios in testdata (%v)", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			blocks := parseScript(t, file)
			h := &harness{t: t}
			var diffs []string
			for i := range blocks {
				b := &blocks[i]
				got := h.run(b.cmd)
				if got != b.want {
					diffs = append(diffs, fmt.Sprintf("%s:%d: %s\nwant:\n%s\ngot:\n%s", file, b.line, b.cmd, b.want, got))
				}
				b.want = got
			}
			if *rewrite {
				writeScript(t, file, blocks)
				return
			}
			for _, d := range diffs {
				t.Error(d)
			}
			if len(diffs) > 0 {
				t.Logf("run `go test ./control/checkpoint -run TestInteraction -rewrite` if the new output is right")
			}
		})
	}
}

type block struct {
	comments []string
	cmd      string
	want     string
	line     int
}

func parseScript(t *testing.T, file string) []block {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var (
		out  []block
		cur  block
		in   bool // reading expected output
		outs []string
		n    int
	)
	flush := func() {
		cur.want = strings.Join(outs, "\n")
		out = append(out, cur)
		cur, outs, in = block{}, nil, false
	}
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case in && line == "":
			flush()
		case in:
			outs = append(outs, line)
		case line == "":
		case strings.HasPrefix(line, "#"):
			cur.comments = append(cur.comments, line)
		case line == "----":
			if cur.cmd == "" {
				t.Fatalf("%s:%d: ---- without a command", file, n)
			}
			in = true
		default:
			if cur.cmd != "" {
				t.Fatalf("%s:%d: command %q has no ---- line", file, n, cur.cmd)
			}
			cur.cmd, cur.line = line, n
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if in {
		flush()
	} else if cur.cmd != "" {
		t.Fatalf("%s: command %q has no ---- line", file, cur.cmd)
	}
	return out
}

func writeScript(t *testing.T, file string, blocks []block) {
	t.Helper()
	var sb strings.Builder
	for i, b := range blocks {
		if i > 0 {
			sb.WriteString("\n")
		}
		for _, c := range b.comments {
			sb.WriteString(c + "\n")
		}
		sb.WriteString(b.cmd + "\n----\n" + b.want + "\n")
	}
	if err := os.WriteFile(file, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// harness drives one Coordinator on a fake clock.
type harness struct {
	t     *testing.T
	c     *Coordinator
	start time.Time
	now   time.Time
}

func (h *harness) run(line string) string {
	args := tokenize(line)
	cmd, args := args[0], args[1:]
	kv := map[string]string{}
	var pos []string
	for _, a := range args {
		if k, v, ok := strings.Cut(a, "="); ok {
			kv[k] = v
		} else {
			pos = append(pos, a)
		}
	}
	need := map[string]int{"tick": 1, "ack": 2, "decline": 3, "committed": 1, "commit-failed": 2,
		"savepoint": 1, "suspend": 1, "drop": 1, "orphans": 1}
	if len(pos) < need[cmd] {
		return fmt.Sprintf("error: %s needs %d arguments", cmd, need[cmd])
	}
	if cmd != "new" && h.c == nil {
		return "error: no coordinator (start with new)"
	}
	var acts []Action
	switch cmd {
	case "new":
		cfg := Config{
			Interval:          h.dur(kv["interval"]),
			Timeout:           h.dur(kv["timeout"]),
			MinPause:          h.dur(kv["min_pause"]),
			MaxConcurrent:     h.int(kv["max_concurrent"]),
			TolerableFailures: h.int(kv["tolerable"]),
			Retain:            h.int(kv["retain"]),
		}
		h.start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		h.now = h.start
		h.c = New(cfg, "job", split(kv["tasks"]), nil, uint64(h.int(kv["next"])))
		return "ok"
	case "tick":
		h.now = h.now.Add(h.dur(pos[0]))
		return strings.TrimRight("t="+h.at(h.now)+"\n"+h.format(h.c.Tick(h.now)), "\n")
	case "ack":
		s := TaskSnapshot{
			Task:          pos[1],
			Objects:       split(kv["objects"]),
			Size:          int64(h.int(kv["size"])),
			Uploaded:      int64(h.int(kv["uploaded"])),
			Alignment:     h.dur(kv["align"]),
			SyncPause:     h.dur(kv["sync"]),
			AsyncDuration: h.dur(kv["async"]),
		}
		for _, p := range split(kv["pos"]) {
			k, v, _ := strings.Cut(p, ":")
			if s.Positions == nil {
				s.Positions = map[string]uint64{}
			}
			s.Positions[k] = uint64(h.int(v))
		}
		acts = h.c.Ack(h.now, h.id(pos[0]), s)
	case "decline":
		acts = h.c.Decline(h.now, h.id(pos[0]), pos[1], pos[2])
	case "committed":
		acts = h.c.Committed(h.now, h.id(pos[0]))
	case "commit-failed":
		acts = h.c.CommitFailed(h.now, h.id(pos[0]), pos[1])
	case "savepoint":
		var err error
		if acts, err = h.c.TriggerSavepoint(h.now, pos[0]); err != nil {
			return "error: " + err.Error()
		}
	case "suspend":
		acts = h.c.Suspend(h.now, pos[0])
	case "resume":
		acts = h.c.Resume(h.now, split(kv["tasks"]), uint64(h.int(kv["restored"])))
	case "drop":
		acts = h.c.Drop(h.id(pos[0]))
	case "latest":
		m := h.c.Latest()
		if m == nil {
			return "none"
		}
		return h.meta(*m)
	case "retained":
		var lines []string
		for _, m := range h.c.Retained() {
			lines = append(lines, h.meta(m))
		}
		if len(lines) == 0 {
			return "none"
		}
		return strings.Join(lines, "\n")
	case "orphans":
		return fmt.Sprintf("%v", h.c.Orphans(split(pos[0])))
	case "history":
		return h.history(h.c.History())
	default:
		return "error: unknown command " + cmd
	}
	if len(acts) == 0 {
		return "ok"
	}
	return strings.TrimRight(h.format(acts), "\n")
}

func (h *harness) format(acts []Action) string {
	var sb strings.Builder
	for _, a := range acts {
		switch a := a.(type) {
		case Trigger:
			fmt.Fprintf(&sb, "Trigger %d%s at %s\n", a.ID, sp(a.Savepoint), h.at(a.Timestamp))
		case Commit:
			fmt.Fprintf(&sb, "Commit %s\n", h.meta(a.Meta))
		case Notify:
			fmt.Fprintf(&sb, "Notify %d%s\n", a.ID, sp(a.Savepoint))
		case Abort:
			fmt.Fprintf(&sb, "Abort %d: %s\n", a.ID, a.Reason)
		case Discard:
			fmt.Fprintf(&sb, "Discard %d objects=%v\n", a.Checkpoint, a.Objects)
		case FailJob:
			fmt.Fprintf(&sb, "FailJob: %s\n", a.Reason)
		case Ignored:
			task := ""
			if a.Task != "" {
				task = " from " + a.Task
			}
			fmt.Fprintf(&sb, "Ignored %s %d%s: %s\n", a.Input, a.ID, task, a.Reason)
		default:
			fmt.Fprintf(&sb, "unknown action %#v\n", a)
		}
	}
	return sb.String()
}

func (h *harness) meta(m Metadata) string {
	tasks := slices.Sorted(maps.Keys(m.Tasks))
	s := fmt.Sprintf("%d%s triggered=%s completed=%s tasks=%v objects=%v size=%d",
		m.ID, sp(m.Savepoint), h.at(m.Triggered), h.at(m.Completed), tasks, m.Objects(), m.Size())
	if p := m.Positions(); len(p) > 0 {
		s += fmt.Sprintf(" positions=%v", p)
	}
	return s
}

func (h *harness) history(hs History) string {
	var sb strings.Builder
	c := hs.Counts
	fmt.Fprintf(&sb, "counts: in_progress=%d completed=%d failed=%d aborted=%d restored=%d\n",
		c.InProgress, c.Completed, c.Failed, c.Aborted, c.Restored)
	for _, s := range hs.Checkpoints {
		end := ""
		if !s.Ended.IsZero() {
			end = fmt.Sprintf(" ended=%s duration=%s", h.at(s.Ended), s.Duration)
		}
		fmt.Fprintf(&sb, "%d%s %s triggered=%s%s acked=%d/%d size=%d uploaded=%d",
			s.ID, sp(s.Savepoint), s.Status, h.at(s.Triggered), end, s.Acked, s.Expected, s.Size, s.Uploaded)
		if s.Failure != "" {
			fmt.Fprintf(&sb, " failure=%q", s.Failure)
		}
		sb.WriteString("\n")
		for _, st := range s.Subtasks {
			fmt.Fprintf(&sb, "  %s align=%s sync=%s async=%s size=%d\n", st.Task, st.Alignment, st.Sync, st.Async, st.Size)
		}
	}
	for _, r := range hs.Restores {
		fmt.Fprintf(&sb, "restored checkpoint %d at %s\n", r.Checkpoint, h.at(r.Time))
	}
	return strings.TrimRight(sb.String(), "\n")
}

func (h *harness) at(t time.Time) string { return t.Sub(h.start).String() }

func (h *harness) dur(s string) time.Duration {
	if s == "" {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		h.t.Fatalf("bad duration %q: %v", s, err)
	}
	return d
}

func (h *harness) int(s string) int {
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		h.t.Fatalf("bad number %q: %v", s, err)
	}
	return n
}

func (h *harness) id(s string) uint64 { return uint64(h.int(s)) }

func sp(id string) string {
	if id == "" {
		return ""
	}
	return " savepoint=" + id
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// tokenize splits line at spaces, keeping "quoted strings" whole (unquoted).
func tokenize(line string) []string {
	var out []string
	var cur strings.Builder
	quoted, started := false, false
	for _, r := range line {
		switch {
		case r == '"':
			quoted, started = !quoted, true
		case r == ' ' && !quoted:
			if started {
				out = append(out, cur.String())
				cur.Reset()
				started = false
			}
		default:
			cur.WriteRune(r)
			started = true
		}
	}
	if started {
		out = append(out, cur.String())
	}
	return out
}
