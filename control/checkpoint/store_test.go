package checkpoint

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/weir-streams/weir/internal/embednats"
)

// newStore starts an embedded NATS server with JetStream on a random port and
// returns a Store over fresh buckets.
func newStore(t *testing.T) Store {
	t.Helper()
	ns, err := embednats.Start(embednats.Options{Dir: t.TempDir(), Port: -1})
	require.NoError(t, err)
	t.Cleanup(ns.Shutdown)
	nc, err := embednats.Connect(ns, "checkpoint-test")
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	ctx := context.Background()
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "TEST_META", History: 1})
	require.NoError(t, err)
	obj, err := js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: "TEST_CHECKPOINTS"})
	require.NoError(t, err)
	return Store{KV: kv, Obj: obj}
}

func testMeta(job string, id uint64, objects ...string) Metadata {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return Metadata{
		JobID: job, ID: id, MaxParallelism: 128,
		Triggered: t0.Add(time.Duration(id) * time.Second), Completed: t0.Add(time.Duration(id)*time.Second + 300*time.Millisecond),
		Tasks: map[string]TaskSnapshot{
			"src[0]": {Task: "src[0]", Handle: json.RawMessage(`{"files":["x"]}`), Objects: objects, Positions: map[string]uint64{"clicks/0": id * 10}, Size: 100, Uploaded: 10, SyncPause: time.Millisecond},
		},
	}
}

// objectNames lists the Object Store's objects.
func objectNames(t *testing.T, s Store) []string {
	t.Helper()
	infos, err := s.Obj.List(context.Background())
	if err != nil {
		require.ErrorIs(t, err, jetstream.ErrNoObjectsFound)
		return nil
	}
	var names []string
	for _, i := range infos {
		names = append(names, i.Name)
	}
	return names
}

func TestStoreCommitLoad(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	m := testMeta("job1", 7, "a", "b")
	require.NoError(t, s.Commit(ctx, m))
	got, err := s.Load(ctx, "job1", 7)
	require.NoError(t, err)
	require.Equal(t, m, got)
	require.Empty(t, objectNames(t, s), "small metadata stays in KV")

	e, err := s.KV.Get(ctx, "checkpoint.job1.00000000000000000007")
	require.NoError(t, err, "the key is the job and the 20-digit id")
	require.Contains(t, string(e.Value()), `"job_id":"job1"`)

	_, err = s.Load(ctx, "job1", 8)
	require.ErrorIs(t, err, ErrNotFound)
	_, err = s.Load(ctx, "job2", 7)
	require.ErrorIs(t, err, ErrNotFound)
}

func TestStoreCommitIsCompareAndSet(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	require.NoError(t, s.Commit(ctx, testMeta("job1", 3, "a")))
	// A second control plane commits the same id with other content: refused.
	err := s.Commit(ctx, testMeta("job1", 3, "other"))
	require.ErrorIs(t, err, ErrExists)
	require.ErrorContains(t, err, "committing checkpoint 3 of job job1: checkpoint: already committed")
	got, err := s.Load(ctx, "job1", 3)
	require.NoError(t, err)
	require.Equal(t, []string{"a"}, got.Objects(), "the first commit stands")

	// The same holds for metadata that goes to the Object Store, and the loser's
	// object does not stay behind.
	big := bigMeta("job1", 4)
	require.NoError(t, s.Commit(ctx, big))
	require.Len(t, objectNames(t, s), 1)
	require.ErrorIs(t, s.Commit(ctx, bigMeta("job1", 4)), ErrExists)
	require.Len(t, objectNames(t, s), 1)
	got, err = s.Load(ctx, "job1", 4)
	require.NoError(t, err)
	require.Equal(t, big, got)
}

func TestStoreRefusesBadInput(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	require.ErrorIs(t, s.Commit(ctx, testMeta("job.1", 1)), ErrInvalid, "a dot would leak into another job's listing")
	require.ErrorIs(t, s.Commit(ctx, testMeta("job1", 0)), ErrInvalid)
	sp := testMeta("job1", 2)
	sp.Savepoint = "sp-1"
	require.ErrorIs(t, s.Commit(ctx, sp), ErrInvalid)
	_, err := s.List(ctx, "a>")
	require.ErrorIs(t, err, ErrInvalid)
	_, err = s.PutSavepoint(ctx, SavepointRecord{ID: "sp.*"}, 0)
	require.ErrorIs(t, err, ErrInvalid)
}

// bigMeta returns metadata whose JSON is over 512 KiB: many tasks with many
// objects, as a large job with incremental checkpoints has.
func bigMeta(job string, id uint64) Metadata {
	m := testMeta(job, id)
	for i := range 200 {
		task := fmt.Sprintf("map[%d]", i)
		objs := make([]string, 200)
		for j := range objs {
			objs[j] = fmt.Sprintf("jobs/%s/state/%s/%06d.sst", job, task, j)
		}
		m.Tasks[task] = TaskSnapshot{Task: task, Objects: objs, Size: int64(i)}
	}
	return m
}

func TestStoreBigMetadataGoesToObjectStore(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	m := bigMeta("job1", 12)
	b, err := json.Marshal(m)
	require.NoError(t, err)
	require.Greater(t, len(b), inlineLimit)

	require.NoError(t, s.Commit(ctx, m))
	e, err := s.KV.Get(ctx, CheckpointKey("job1", 12))
	require.NoError(t, err)
	require.Less(t, len(e.Value()), 1024, "KV holds a small pointer")
	names := objectNames(t, s)
	require.Len(t, names, 1)
	require.True(t, strings.HasPrefix(names[0], "checkpoints/job1/00000000000000000012/"), names[0])

	got, err := s.Load(ctx, "job1", 12)
	require.NoError(t, err)
	require.Equal(t, m, got)
	list, err := s.List(ctx, "job1")
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, m, list[0])

	require.NoError(t, s.Delete(ctx, "job1", 12))
	require.Empty(t, objectNames(t, s), "deleting the checkpoint deletes its pointer object")
	_, err = s.Load(ctx, "job1", 12)
	require.ErrorIs(t, err, ErrNotFound)
	require.NoError(t, s.Delete(ctx, "job1", 12), "deleting twice is fine")
}

func TestStoreMissingObjectIsCorrupt(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	require.NoError(t, s.Commit(ctx, bigMeta("job1", 1)))
	for _, n := range objectNames(t, s) {
		require.NoError(t, s.Obj.Delete(ctx, n))
	}
	_, err := s.Load(ctx, "job1", 1)
	require.ErrorIs(t, err, ErrCorrupt)
	require.ErrorContains(t, err, "points to the missing object")
}

func TestStoreListOrdersByID(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	// Committed out of order, past 10 so that unpadded keys would sort 10 < 2.
	ids := []uint64{11, 2, 10, 1, 9, 3, 12, 5, 4, 8, 7, 6, 100}
	for _, id := range ids {
		require.NoError(t, s.Commit(ctx, testMeta("job1", id)))
	}
	require.NoError(t, s.Commit(ctx, testMeta("job10", 50)), "another job, whose id starts like this one's")
	require.NoError(t, s.Delete(ctx, "job1", 100))

	list, err := s.List(ctx, "job1")
	require.NoError(t, err)
	var got []uint64
	for _, m := range list {
		require.Equal(t, "job1", m.JobID)
		got = append(got, m.ID)
	}
	require.Equal(t, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, got)

	// The keys sort by id too, so that anyone listing the bucket sees them in order.
	keys, err := s.keys(ctx, "checkpoint.job1.*")
	require.NoError(t, err)
	require.Equal(t, CheckpointKey("job1", 1), keys[0])
	require.Equal(t, CheckpointKey("job1", 12), keys[len(keys)-1])

	list, err = s.List(ctx, "nojob")
	require.NoError(t, err)
	require.Empty(t, list)
}

func TestStoreListReportsCorruptEntries(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	require.NoError(t, s.Commit(ctx, testMeta("job1", 1)))
	require.NoError(t, s.Commit(ctx, testMeta("job1", 3)))
	_, err := s.KV.Create(ctx, CheckpointKey("job1", 2), []byte("{not json"))
	require.NoError(t, err)
	// A document filed under the wrong id.
	b, err := json.Marshal(testMeta("job1", 9))
	require.NoError(t, err)
	_, err = s.KV.Create(ctx, CheckpointKey("job1", 4), b)
	require.NoError(t, err)

	list, err := s.List(ctx, "job1")
	require.ErrorIs(t, err, ErrCorrupt)
	require.ErrorContains(t, err, "loading checkpoint 2 of job job1")
	require.ErrorContains(t, err, "loading checkpoint 4 of job job1")
	require.Len(t, list, 2, "the readable checkpoints are still returned")
	require.Equal(t, uint64(1), list[0].ID)
	require.Equal(t, uint64(3), list[1].ID)
}

func TestStoreSavepoints(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rec := SavepointRecord{ID: "sp-b", JobID: "job1", JobName: "clicks", Status: SavepointInProgress, Created: t0}
	rev, err := s.PutSavepoint(ctx, rec, 0)
	require.NoError(t, err)
	_, err = s.PutSavepoint(ctx, rec, 0)
	require.ErrorIs(t, err, ErrExists, "a savepoint id is created once")

	got, gotRev, err := s.GetSavepoint(ctx, "sp-b")
	require.NoError(t, err)
	require.Equal(t, rec, got)
	require.Equal(t, rev, gotRev)

	// Completing it: compare-and-set on the revision read.
	m := testMeta("job1", 5, "sp/a")
	m.Savepoint = "sp-b"
	done := rec
	done.Status, done.Completed, done.CheckpointID, done.Size, done.Metadata = SavepointCompleted, t0.Add(time.Second), 5, m.Size(), &m
	rev2, err := s.PutSavepoint(ctx, done, rev)
	require.NoError(t, err)
	_, err = s.PutSavepoint(ctx, rec, rev)
	require.ErrorIs(t, err, ErrConflict, "a stale revision is refused")
	got, gotRev, err = s.GetSavepoint(ctx, "sp-b")
	require.NoError(t, err)
	require.Equal(t, done, got)
	require.Equal(t, rev2, gotRev)

	// A second savepoint of another job, older, with metadata too big for KV.
	bm := bigMeta("job2", 9)
	bm.Savepoint = "sp-a"
	big := SavepointRecord{ID: "sp-a", JobID: "job2", Status: SavepointCompleted, Created: t0.Add(-time.Hour), Metadata: &bm}
	bigRev, err := s.PutSavepoint(ctx, big, 0)
	require.NoError(t, err)
	require.Len(t, objectNames(t, s), 1)
	failed := SavepointRecord{ID: "sp-c", JobID: "job1", Status: SavepointFailed, Created: t0.Add(time.Hour), Error: "declined by sink[0]: disk full"}
	_, err = s.PutSavepoint(ctx, failed, 0)
	require.NoError(t, err)

	list, err := s.ListSavepoints(ctx)
	require.NoError(t, err)
	require.Len(t, list, 3)
	require.Equal(t, []string{"sp-a", "sp-b", "sp-c"}, []string{list[0].ID, list[1].ID, list[2].ID})
	require.Equal(t, big, list[0])

	// Replacing the big record replaces its object rather than leaving one behind.
	big.JobName = "renamed"
	_, err = s.PutSavepoint(ctx, big, bigRev)
	require.NoError(t, err)
	require.Len(t, objectNames(t, s), 1)

	require.NoError(t, s.DeleteSavepoint(ctx, "sp-a"))
	require.Empty(t, objectNames(t, s))
	_, _, err = s.GetSavepoint(ctx, "sp-a")
	require.ErrorIs(t, err, ErrNotFound)
	require.NoError(t, s.DeleteSavepoint(ctx, "sp-a"))
	_, err = s.PutSavepoint(ctx, rec, 12345)
	require.ErrorIs(t, err, ErrConflict)
}
