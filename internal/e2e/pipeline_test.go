package e2e

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const pipelineRecords = 100_000

// TestPipeline runs source -> map -> filter -> sink with parallelism 2 over 100,000
// records, with the Go module and with the hand-written WAT module, and checks that
// exactly the expected records arrive.
func TestPipeline(t *testing.T) {
	for _, tc := range []struct{ name, file string }{
		{"go", "orders.wasm"},
		{"wat", "orders_wat.wasm"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startStandalone(t, t.TempDir())
			m := s.upload("orders", tc.file)
			require.Equal(t, "orders", m.Name)
			s.stream("ORDERS", "orders.in")
			s.stream("RESULTS", "orders.out")
			id := s.submit(ordersJob("orders-"+tc.name, "orders", "ORDERS", "orders.out", 2))
			s.waitStatus(id, "RUNNING", time.Minute)
			s.publish("orders.in", orderPayloads(0, pipelineRecords))
			want := expectedOrders(0, pipelineRecords)
			s.waitCount("RESULTS", uint64(len(want)), 3*time.Minute)
			assertExactly(t, want, s.readAll("RESULTS"))

			j := s.job(id)
			require.Len(t, j.Plan.Vertices, 2, "source alone, then map -> filter -> sink chained")
			chain := j.Plan.Vertices[1]
			require.Equal(t, 2, chain.Parallelism)
			require.Len(t, chain.Subtasks, 2)
			require.Eventually(t, func() bool {
				j := s.job(id)
				for _, st := range j.Plan.Vertices[1].Subtasks {
					if st.RecordsIn == 0 {
						return false
					}
				}
				return true
			}, 30*time.Second, 200*time.Millisecond, "both map subtasks must report records in")
			require.Equal(t, "rebalance", j.Plan.Edges[0].Partitioning)
		})
	}
}

// assertExactly checks got is want as a multiset: none missing, none extra.
func assertExactly(t *testing.T, want, got []string) {
	t.Helper()
	missing, extra := diff(want, got)
	if len(missing) > 0 || len(extra) > 0 {
		t.Fatalf("sink holds %d records, want %d: %d missing (first %v), %d extra (first %v)",
			len(got), len(want), len(missing), head(missing), len(extra), head(extra))
	}
}

// diff returns what want has that got lacks, and what got has beyond want.
func diff(want, got []string) (missing, extra []string) {
	counts := map[string]int{}
	for _, w := range want {
		counts[w]++
	}
	for _, g := range got {
		counts[g]--
	}
	for k, n := range counts {
		for ; n > 0; n-- {
			missing = append(missing, k)
		}
		for ; n < 0; n++ {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	return missing, extra
}

func head(s []string) []string {
	if len(s) > 3 {
		return s[:3]
	}
	return s
}

// TestRestart stops standalone gracefully mid-stream and starts it again on the
// same data directory: modules and jobs are listed again and the job continues with
// no loss and no duplicate. Then the same with SIGKILL: no loss.
func TestRestart(t *testing.T) {
	for _, graceful := range []bool{true, false} {
		name := "sigkill"
		if graceful {
			name = "graceful"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			s := startStandalone(t, dir)
			s.upload("orders", "orders.wasm")
			s.stream("ORDERS", "orders.in")
			s.stream("RESULTS", "orders.out")
			id := s.submit(ordersJob("restart-"+name, "orders", "ORDERS", "orders.out", 2))
			s.waitStatus(id, "RUNNING", time.Minute)
			const half = 30_000
			s.publish("orders.in", orderPayloads(0, half))
			// Stop while records are still flowing.
			s.waitCount("RESULTS", uint64(len(expectedOrders(0, half))/3), 2*time.Minute)
			if graceful {
				s.stop()
			} else {
				s.kill()
			}

			s = startStandalone(t, dir)
			mods, err := s.client.ListModules(context.Background())
			require.NoError(t, err)
			require.Len(t, mods.Modules, 1)
			jobs, err := s.client.ListJobs(context.Background())
			require.NoError(t, err)
			require.Len(t, jobs.Jobs, 1)
			require.Equal(t, id, jobs.Jobs[0].ID)
			s.waitStatus(id, "RUNNING", time.Minute)
			s.publish("orders.in", orderPayloads(half, 2*half))
			want := expectedOrders(0, 2*half)
			s.waitCount("RESULTS", uint64(len(want)), 3*time.Minute)
			// Give a duplicate time to show up before counting.
			time.Sleep(2 * time.Second)
			got := s.readAll("RESULTS")
			missing, extra := diff(want, got)
			require.Empty(t, missing, "records lost across the restart")
			if graceful {
				require.Empty(t, extra, "records duplicated across a graceful restart")
			} else {
				t.Logf("after SIGKILL: %d duplicates (at-least-once)", len(extra))
			}
		})
	}
}
