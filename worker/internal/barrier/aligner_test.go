package barrier

import (
	"fmt"
	"strings"
	"testing"
)

// TestScenarios drives aligners with scripted events; each line is an event and
// the result the aligner must give, written by hand.
func TestScenarios(t *testing.T) {
	for _, sc := range []struct {
		name        string
		channels    int
		exactlyOnce bool
		script      string
	}{
		{"exactly-once blocks until every channel delivered", 3, true, `
			barrier 0 1 -> block
			barrier 2 1 -> block
			blocked 0 2 -> yes yes
			blocked 1   -> no
			barrier 1 1 -> snapshot 1
			blocked 0   -> no`},
		{"at-least-once never blocks", 2, false, `
			barrier 1 5 -> -
			blocked 1   -> no
			barrier 0 5 -> snapshot 5`},
		{"one channel snapshots at once", 1, true, `
			barrier 0 1 -> snapshot 1
			barrier 0 2 -> snapshot 2`},
		{"a newer barrier aborts the one being aligned", 2, true, `
			barrier 0 1 -> block
			barrier 0 2 -> abort 1 block
			barrier 1 1 -> stale
			barrier 1 2 -> snapshot 2`},
		{"stale barriers are ignored", 2, true, `
			barrier 0 3 -> block
			barrier 1 3 -> snapshot 3
			barrier 0 2 -> stale
			barrier 1 3 -> stale`},
		{"an ended channel counts as delivered", 3, true, `
			barrier 0 1 -> block
			end 1       -> -
			barrier 2 1 -> snapshot 1
			barrier 0 2 -> block
			barrier 2 2 -> snapshot 2`},
		{"the last open channel ending completes the alignment", 2, true, `
			barrier 0 4 -> block
			end 1       -> snapshot 4
			blocked 0   -> no`},
		{"an ended channel is never blocked", 2, true, `
			barrier 0 1 -> block
			end 0       -> -
			blocked 0   -> no
			barrier 1 1 -> snapshot 1`},
	} {
		t.Run(sc.name, func(t *testing.T) {
			a := New(sc.channels, sc.exactlyOnce)
			for _, line := range strings.Split(strings.TrimSpace(sc.script), "\n") {
				cmd, want, _ := strings.Cut(strings.TrimSpace(line), "->")
				f := strings.Fields(cmd)
				want = strings.TrimSpace(want)
				var got string
				switch f[0] {
				case "barrier":
					var c int
					var id uint64
					fmt.Sscan(f[1], &c)
					fmt.Sscan(f[2], &id)
					got = format(a.Barrier(c, id))
				case "end":
					var c int
					fmt.Sscan(f[1], &c)
					got = format(a.End(c))
				case "blocked":
					var out []string
					for _, s := range f[1:] {
						var c int
						fmt.Sscan(s, &c)
						out = append(out, map[bool]string{true: "yes", false: "no"}[a.Blocked(c)])
					}
					got = strings.Join(out, " ")
				}
				if got != want {
					t.Fatalf("%s: got %q, want %q", strings.TrimSpace(cmd), got, want)
				}
			}
		})
	}
}

func format(r Result) string {
	var out []string
	if r.Stale {
		out = append(out, "stale")
	}
	if r.Abort != 0 {
		out = append(out, fmt.Sprintf("abort %d", r.Abort))
	}
	if r.Block {
		out = append(out, "block")
	}
	if r.Snapshot != 0 {
		out = append(out, fmt.Sprintf("snapshot %d", r.Snapshot))
	}
	if len(out) == 0 {
		return "-"
	}
	return strings.Join(out, " ")
}
