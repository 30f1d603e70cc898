package state

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/nats-io/nats.go/jetstream"
)

var (
	// ErrNotFound is wrapped by FileStore errors for a missing object.
	ErrNotFound = errors.New("state: object not found")
	// ErrCorrupt is wrapped by Restore's errors for an object that is missing or
	// whose size or SHA-256 differs from its Handle's: no database is opened
	// with such a file.
	ErrCorrupt = errors.New("state: corrupt checkpoint")
)

// FileStore holds checkpoint files as named objects. Implementations are safe for
// concurrent use.
type FileStore interface {
	// Put stores the bytes of r as name, replacing an object of that name.
	Put(ctx context.Context, name string, r io.Reader) error
	// Get writes the object's bytes to w; the error wraps ErrNotFound when the
	// object does not exist.
	Get(ctx context.Context, name string, w io.Writer) error
	// Has reports whether the object exists.
	Has(ctx context.Context, name string) (bool, error)
	// Delete removes the object; removing a missing object is not an error.
	Delete(ctx context.Context, name string) error
}

// NewObjectStore returns a FileStore on a NATS JetStream Object Store bucket.
// Creating the bucket (its replicas, storage and limits) is the caller's.
func NewObjectStore(obj jetstream.ObjectStore) FileStore { return objectStore{obj} }

type objectStore struct{ obj jetstream.ObjectStore }

func (s objectStore) Put(ctx context.Context, name string, r io.Reader) error {
	if _, err := s.obj.Put(ctx, jetstream.ObjectMeta{Name: name}, r); err != nil {
		return fmt.Errorf("putting object %q: %w", name, err)
	}
	return nil
}

func (s objectStore) Get(ctx context.Context, name string, w io.Writer) error {
	res, err := s.obj.Get(ctx, name)
	if err != nil {
		return fmt.Errorf("getting object %q: %w", name, mapObjectErr(err))
	}
	_, err = io.Copy(w, res)
	// The object store checks its own SHA-256 digest when the read completes.
	if cerr := res.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("getting object %q: %w", name, mapObjectErr(err))
	}
	return nil
}

func (s objectStore) Has(ctx context.Context, name string) (bool, error) {
	_, err := s.obj.GetInfo(ctx, name)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("looking up object %q: %w", name, err)
	}
	return true, nil
}

func (s objectStore) Delete(ctx context.Context, name string) error {
	err := s.obj.Delete(ctx, name)
	if err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
		return fmt.Errorf("deleting object %q: %w", name, err)
	}
	return nil
}

// mapObjectErr makes the object store's sentinels this package's, keeping the
// original in the chain.
func mapObjectErr(err error) error {
	switch {
	case errors.Is(err, jetstream.ErrObjectNotFound):
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case errors.Is(err, jetstream.ErrDigestMismatch):
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return err
}
