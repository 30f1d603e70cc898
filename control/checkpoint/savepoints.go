package checkpoint

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// SavepointStatus is where a savepoint is in its life (GET /savepoints/{id}).
type SavepointStatus string

// Savepoint statuses.
const (
	SavepointInProgress SavepointStatus = "IN_PROGRESS"
	SavepointCompleted  SavepointStatus = "COMPLETED"
	SavepointFailed     SavepointStatus = "FAILED"
)

// SavepointRecord is a savepoint as the savepoint store keeps it. It outlives its
// job: a job can be started from it after its job was cancelled.
type SavepointRecord struct {
	ID        string          `json:"id"`
	JobID     string          `json:"job_id"`
	JobName   string          `json:"job_name"`
	Status    SavepointStatus `json:"status"`
	Created   time.Time       `json:"created"`
	Completed time.Time       `json:"completed,omitzero"`
	Size      int64           `json:"size"`
	// Error says why a FAILED savepoint failed.
	Error string `json:"error,omitempty"`
	// CheckpointID is the coordinator's id for the savepoint, 0 until triggered.
	CheckpointID uint64 `json:"checkpoint_id,omitempty"`
	// Metadata is set once COMPLETED: what starting a job from it restores.
	Metadata *Metadata `json:"metadata,omitempty"`
	// SinksCommitted says the job stopped with this savepoint and its
	// exactly-once sinks published every record it holds: a job restored from
	// it must not publish them again.
	SinksCommitted bool `json:"sinks_committed,omitempty"`
}

// PutSavepoint writes r under SavepointKey(r.ID) if the record is still at
// revision rev, 0 meaning it must not exist yet, and returns the new revision.
// A create of an existing id fails with ErrExists, an update of a record changed
// since rev with ErrConflict. A record over 512 KiB (large metadata) goes to the
// Object Store behind a pointer, like a checkpoint's.
func (s Store) PutSavepoint(ctx context.Context, r SavepointRecord, rev uint64) (uint64, error) {
	n, err := s.putSavepoint(ctx, r, rev)
	if err != nil {
		return 0, fmt.Errorf("writing savepoint %s: %w", r.ID, err)
	}
	return n, nil
}

func (s Store) putSavepoint(ctx context.Context, r SavepointRecord, rev uint64) (uint64, error) {
	if err := checkToken("savepoint id", r.ID); err != nil {
		return 0, err
	}
	key := SavepointKey(r.ID)
	// The pointer object of the revision being replaced, deleted once the update
	// succeeded so that it does not outlive the record.
	var old string
	if rev != 0 {
		e, err := s.KV.Get(ctx, key)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
			return 0, fmt.Errorf("%w: %s is gone", ErrConflict, key)
		case err != nil:
			return 0, fmt.Errorf("reading %s: %w", key, err)
		case e.Revision() != rev:
			return 0, fmt.Errorf("%w: %s is at revision %d, not %d", ErrConflict, key, e.Revision(), rev)
		}
		if ref, err := refOf(e.Value()); err == nil && ref != nil {
			old = ref.Name
		}
	}
	val, obj, err := s.encode(ctx, "savepoints/"+r.ID, r)
	if err != nil {
		return 0, err
	}
	var n uint64
	if rev == 0 {
		n, err = s.KV.Create(ctx, key, val)
	} else {
		n, err = s.KV.Update(ctx, key, val, rev)
	}
	if err != nil {
		err = s.dropObject(ctx, obj, err)
		switch {
		case errors.Is(err, jetstream.ErrKeyExists) && rev == 0:
			return 0, fmt.Errorf("%w: %s: %w", ErrExists, key, err)
		case errors.Is(err, jetstream.ErrKeyExists), errors.Is(err, jetstream.ErrKeyRevisionMismatch):
			return 0, fmt.Errorf("%w: %s: %w", ErrConflict, key, err)
		}
		return 0, fmt.Errorf("writing %s: %w", key, err)
	}
	if old != "" {
		if err := s.Obj.Delete(ctx, old); err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
			// The record is written; only an unreferenced object is left behind.
			return n, fmt.Errorf("deleting the replaced object %s: %w", old, err)
		}
	}
	return n, nil
}

// GetSavepoint reads savepoint id and the revision to pass to PutSavepoint;
// ErrNotFound if it is not stored.
func (s Store) GetSavepoint(ctx context.Context, id string) (SavepointRecord, uint64, error) {
	if err := checkToken("savepoint id", id); err != nil {
		return SavepointRecord{}, 0, fmt.Errorf("reading savepoint: %w", err)
	}
	var r SavepointRecord
	rev, err := s.get(ctx, SavepointKey(id), &r)
	if err != nil {
		return SavepointRecord{}, 0, fmt.Errorf("reading savepoint %s: %w", id, err)
	}
	if r.ID != id {
		return SavepointRecord{}, 0, fmt.Errorf("reading savepoint %s: %w: the document is savepoint %q", id, ErrCorrupt, r.ID)
	}
	return r, rev, nil
}

// ListSavepoints returns every savepoint record, oldest first (by Created, then
// id). Like List, it returns what it could read and an error for the rest.
func (s Store) ListSavepoints(ctx context.Context) ([]SavepointRecord, error) {
	keys, err := s.keys(ctx, "savepoint.*")
	if err != nil {
		return nil, fmt.Errorf("listing savepoints: %w", err)
	}
	var (
		out  []SavepointRecord
		errs []error
	)
	for _, k := range keys {
		r, _, err := s.GetSavepoint(ctx, strings.TrimPrefix(k, "savepoint."))
		switch {
		case errors.Is(err, ErrNotFound): // deleted since the listing
		case err != nil:
			errs = append(errs, err)
		default:
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b SavepointRecord) int {
		return cmp.Or(a.Created.Compare(b.Created), strings.Compare(a.ID, b.ID))
	})
	return out, errors.Join(errs...)
}

// DeleteSavepoint removes savepoint id's record and its pointer object, if any;
// deleting one that is not stored is not an error. The state objects its metadata
// references are the caller's to delete (Metadata.Objects): a savepoint is
// self-contained, so none of them is shared with a checkpoint.
func (s Store) DeleteSavepoint(ctx context.Context, id string) error {
	if err := checkToken("savepoint id", id); err != nil {
		return fmt.Errorf("deleting savepoint: %w", err)
	}
	if err := s.del(ctx, SavepointKey(id)); err != nil {
		return fmt.Errorf("deleting savepoint %s: %w", id, err)
	}
	return nil
}
