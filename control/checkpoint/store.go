package checkpoint

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// Errors of the Store.
var (
	ErrNotFound = errors.New("checkpoint: not found")
	// ErrExists: the key was written already, e.g. by another control plane.
	ErrExists = errors.New("checkpoint: already committed")
	// ErrConflict: a savepoint record changed since the revision the caller read.
	ErrConflict = errors.New("checkpoint: changed concurrently")
	ErrCorrupt  = errors.New("checkpoint: corrupt metadata")
	ErrInvalid  = errors.New("checkpoint: invalid")
)

// inlineLimit is the largest JSON document kept in the KV entry itself. Larger
// ones go to the Object Store with a pointer in KV: well under NATS's default
// 1 MiB message size, so a KV write never fails for size.
const inlineLimit = 512 << 10

// Store keeps completed checkpoints and savepoint records in NATS JetStream:
//
//   - checkpoint.<job>.<id, 20 digits zero-padded>: a checkpoint's Metadata;
//   - savepoint.<savepoint id>: a SavepointRecord, whatever its job.
//
// A document over 512 KiB goes to Obj under checkpoints/<job>/<id>/<nonce> (or
// savepoints/<savepoint id>/<nonce>), and the KV entry holds a small pointer to
// it; reading follows the pointer. The nonce keeps two control planes racing on
// one id from overwriting each other's object: the loser of the KV
// compare-and-set deletes its own.
//
// A Store is safe for concurrent use (the JetStream handles are).
type Store struct {
	KV  jetstream.KeyValue
	Obj jetstream.ObjectStore
}

// pointer is what a KV entry holds for a document stored in the Object Store.
// The field name cannot occur in a Metadata or SavepointRecord document, which is
// how a reader tells the two apart.
type pointer struct {
	Ref *objectRef `json:"weir_object_ref,omitempty"`
}

type objectRef struct {
	Name string `json:"name"`
	Size int    `json:"size"`
}

// token is what a job or savepoint id may hold: one KV key token (no dots or
// wildcards, so that a prefix listing never matches another job).
var token = regexp.MustCompile(`^[A-Za-z0-9_=-]+$`)

func checkToken(what, s string) error {
	if !token.MatchString(s) {
		return fmt.Errorf("%w %s %q: letters, digits, '-', '_' and '=' only", ErrInvalid, what, s)
	}
	return nil
}

// CheckpointKey is the KV key of checkpoint id of job jobID. The zero padding
// makes the keys sort by id.
func CheckpointKey(jobID string, id uint64) string {
	return fmt.Sprintf("checkpoint.%s.%020d", jobID, id)
}

// SavepointKey is the KV key of savepoint id.
func SavepointKey(id string) string { return "savepoint." + id }

// Commit writes m under CheckpointKey, only if no checkpoint with its id was
// committed before: two control planes can never both commit one id. A second
// commit of an id fails with ErrExists.
func (s Store) Commit(ctx context.Context, m Metadata) error {
	if err := s.commit(ctx, m); err != nil {
		return fmt.Errorf("committing checkpoint %d of job %s: %w", m.ID, m.JobID, err)
	}
	return nil
}

func (s Store) commit(ctx context.Context, m Metadata) error {
	if err := checkToken("job id", m.JobID); err != nil {
		return err
	}
	if m.ID == 0 {
		return fmt.Errorf("%w id 0", ErrInvalid)
	}
	if m.Savepoint != "" {
		return fmt.Errorf("%w: savepoint %s belongs in its savepoint record", ErrInvalid, m.Savepoint)
	}
	val, obj, err := s.encode(ctx, fmt.Sprintf("checkpoints/%s/%020d", m.JobID, m.ID), m)
	if err != nil {
		return err
	}
	if _, err := s.KV.Create(ctx, CheckpointKey(m.JobID, m.ID), val); err != nil {
		err = s.dropObject(ctx, obj, err)
		if errors.Is(err, jetstream.ErrKeyExists) {
			return fmt.Errorf("%w (by another control plane?): %w", ErrExists, err)
		}
		return fmt.Errorf("writing %s: %w", CheckpointKey(m.JobID, m.ID), err)
	}
	return nil
}

// Load reads checkpoint id of job jobID; ErrNotFound if it is not stored.
func (s Store) Load(ctx context.Context, jobID string, id uint64) (Metadata, error) {
	m, err := s.load(ctx, jobID, id)
	if err != nil {
		return Metadata{}, fmt.Errorf("loading checkpoint %d of job %s: %w", id, jobID, err)
	}
	return m, nil
}

func (s Store) load(ctx context.Context, jobID string, id uint64) (Metadata, error) {
	if err := checkToken("job id", jobID); err != nil {
		return Metadata{}, err
	}
	var m Metadata
	if _, err := s.get(ctx, CheckpointKey(jobID, id), &m); err != nil {
		return Metadata{}, err
	}
	// The key names the checkpoint; a document that disagrees was written wrongly
	// and must not be restored as if it were this one.
	if m.JobID != jobID || m.ID != id || m.Savepoint != "" {
		return Metadata{}, fmt.Errorf("%w: the document is checkpoint %d of job %q (savepoint %q)", ErrCorrupt, m.ID, m.JobID, m.Savepoint)
	}
	return m, nil
}

// List returns the checkpoints of job jobID in ascending id order. It returns every
// checkpoint it could read, and an error that says why any other could not be.
func (s Store) List(ctx context.Context, jobID string) ([]Metadata, error) {
	if err := checkToken("job id", jobID); err != nil {
		return nil, fmt.Errorf("listing checkpoints: %w", err)
	}
	prefix := "checkpoint." + jobID + "."
	keys, err := s.keys(ctx, prefix+"*")
	if err != nil {
		return nil, fmt.Errorf("listing checkpoints of job %s: %w", jobID, err)
	}
	var (
		ids  []uint64
		errs []error
	)
	for _, k := range keys {
		id, err := strconv.ParseUint(strings.TrimPrefix(k, prefix), 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("listing checkpoints of job %s: %w key %s", jobID, ErrCorrupt, k))
			continue
		}
		ids = append(ids, id)
	}
	// Sorted by number, not by key: the padding makes both agree, but this does
	// not depend on it.
	slices.Sort(ids)
	out := make([]Metadata, 0, len(ids))
	for _, id := range ids {
		m, err := s.Load(ctx, jobID, id)
		switch {
		case errors.Is(err, ErrNotFound): // deleted since the listing
		case err != nil:
			errs = append(errs, err)
		default:
			out = append(out, m)
		}
	}
	return out, errors.Join(errs...)
}

// Delete removes checkpoint id of job jobID and its pointer object, if any.
// Deleting a checkpoint that is not stored is not an error, so that a discard can
// be retried. It does not delete the state objects the checkpoint references: the
// coordinator's Discard lists which of those may go.
func (s Store) Delete(ctx context.Context, jobID string, id uint64) error {
	if err := checkToken("job id", jobID); err != nil {
		return fmt.Errorf("deleting checkpoint %d: %w", id, err)
	}
	if err := s.del(ctx, CheckpointKey(jobID, id)); err != nil {
		return fmt.Errorf("deleting checkpoint %d of job %s: %w", id, jobID, err)
	}
	return nil
}

// encode returns the KV value for v: its JSON, or, over inlineLimit, a pointer to
// an object under prefix holding it, whose name it also returns.
func (s Store) encode(ctx context.Context, prefix string, v any) (val []byte, obj string, err error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, "", fmt.Errorf("encoding: %w", err)
	}
	if len(b) <= inlineLimit {
		return b, "", nil
	}
	var nonce [8]byte
	_, _ = rand.Read(nonce[:]) // never fails (crypto/rand's contract)
	obj = prefix + "/" + hex.EncodeToString(nonce[:])
	if _, err := s.Obj.PutBytes(ctx, obj, b); err != nil {
		return nil, "", fmt.Errorf("storing %d bytes of metadata as object %s: %w", len(b), obj, err)
	}
	val, err = json.Marshal(pointer{Ref: &objectRef{Name: obj, Size: len(b)}})
	if err != nil {
		return nil, "", s.dropObject(ctx, obj, fmt.Errorf("encoding the pointer: %w", err))
	}
	return val, obj, nil
}

// dropObject deletes obj (if any) after cause made it useless, and returns cause
// with whatever the deletion said.
func (s Store) dropObject(ctx context.Context, obj string, cause error) error {
	if obj == "" {
		return cause
	}
	if err := s.Obj.Delete(ctx, obj); err != nil {
		return errors.Join(cause, fmt.Errorf("deleting the unused object %s: %w", obj, err))
	}
	return cause
}

// get decodes the document at key into v, following a pointer, and returns the
// entry's revision.
func (s Store) get(ctx context.Context, key string, v any) (uint64, error) {
	e, err := s.KV.Get(ctx, key)
	if err != nil {
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return 0, fmt.Errorf("%w: %s", ErrNotFound, key)
		}
		return 0, fmt.Errorf("reading %s: %w", key, err)
	}
	b := e.Value()
	ref, err := refOf(b)
	if err != nil {
		return 0, fmt.Errorf("%w: decoding %s: %w", ErrCorrupt, key, err)
	}
	if ref != nil {
		// The Object Store checks the object's SHA-256 digest as it reads.
		if b, err = s.Obj.GetBytes(ctx, ref.Name); err != nil {
			if errors.Is(err, jetstream.ErrObjectNotFound) {
				return 0, fmt.Errorf("%w: %s points to the missing object %s", ErrCorrupt, key, ref.Name)
			}
			return 0, fmt.Errorf("reading object %s that %s points to: %w", ref.Name, key, err)
		}
		if len(b) != ref.Size {
			return 0, fmt.Errorf("%w: object %s has %d bytes, %s says %d", ErrCorrupt, ref.Name, len(b), key, ref.Size)
		}
	}
	if err := json.Unmarshal(b, v); err != nil {
		return 0, fmt.Errorf("%w: decoding %s: %w", ErrCorrupt, key, err)
	}
	return e.Revision(), nil
}

// refOf returns the object a KV value points to, nil if the value is the document.
func refOf(val []byte) (*objectRef, error) {
	var p pointer
	if err := json.Unmarshal(val, &p); err != nil {
		return nil, err
	}
	if p.Ref != nil && p.Ref.Name == "" {
		return nil, errors.New("a pointer without an object name")
	}
	return p.Ref, nil
}

// del purges key and then the object it points to. The entry goes first: should
// the object's deletion fail, an unreferenced object is left, never a pointer to
// nothing.
func (s Store) del(ctx context.Context, key string) error {
	e, err := s.KV.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", key, err)
	}
	// Purge rather than Delete: it drops the document and leaves only a marker.
	if err := s.KV.Purge(ctx, key, jetstream.LastRevision(e.Revision())); err != nil {
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return fmt.Errorf("%w: %s", ErrConflict, key)
		}
		return fmt.Errorf("purging %s: %w", key, err)
	}
	ref, err := refOf(e.Value())
	if err != nil || ref == nil {
		return nil // nothing to follow; a corrupt entry is gone all the same
	}
	if err := s.Obj.Delete(ctx, ref.Name); err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
		return fmt.Errorf("deleting object %s: %w", ref.Name, err)
	}
	return nil
}

// keys lists the KV keys matching filter, each once (a listing may repeat a key
// written meanwhile).
func (s Store) keys(ctx context.Context, filter string) ([]string, error) {
	l, err := s.KV.ListKeysFiltered(ctx, filter)
	if err != nil {
		if errors.Is(err, jetstream.ErrNoKeysFound) {
			return nil, nil
		}
		return nil, err
	}
	var out []string
	for k := range l.Keys() {
		out = append(out, k)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
