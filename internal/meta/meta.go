package meta

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// Bucket names.
const (
	MetaBucket    = "WEIR_META"
	ModulesBucket = "WEIR_MODULES"
	// StateBucket holds checkpoint and savepoint files: state snapshots, and
	// checkpoint metadata too large for the KV bucket.
	StateBucket = "WEIR_STATE"
)

// DigestPrefix starts every module digest as users see it.
const DigestPrefix = "sha256:"

// ErrModuleNotFound is returned when no module has a digest.
var ErrModuleNotFound = errors.New("meta: module not found")

// Digest returns the digest of wasm as users see it: "sha256:<hex>".
func Digest(wasm []byte) string {
	sum := sha256.Sum256(wasm)
	return DigestPrefix + hex.EncodeToString(sum[:])
}

// objectName is the Object Store name of a module digest.
func objectName(digest string) string {
	return "sha256-" + strings.TrimPrefix(digest, DigestPrefix)
}

// Buckets opens (creating if needed) the metadata KV bucket and the module store.
func Buckets(ctx context.Context, js jetstream.JetStream) (jetstream.KeyValue, jetstream.ObjectStore, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      MetaBucket,
		Description: "Weir metadata: modules, jobs, progress",
		History:     1,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("opening KV bucket %s: %w", MetaBucket, err)
	}
	obj, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket:      ModulesBucket,
		Description: "Weir Wasm modules by sha256 digest",
	})
	if err != nil {
		return nil, nil, fmt.Errorf("opening object store %s: %w", ModulesBucket, err)
	}
	return kv, obj, nil
}

// ModuleStore reads and writes module bytes by digest.
type ModuleStore struct {
	Obj jetstream.ObjectStore
}

// Fetch returns the bytes of the module with digest; the Object Store verifies the
// content's SHA-256 on read.
func (s ModuleStore) Fetch(ctx context.Context, digest string) ([]byte, error) {
	b, err := s.Obj.GetBytes(ctx, objectName(digest))
	if err != nil {
		if errors.Is(err, jetstream.ErrObjectNotFound) {
			return nil, fmt.Errorf("%w: %s", ErrModuleNotFound, digest)
		}
		return nil, fmt.Errorf("fetching module %s: %w", digest, err)
	}
	return b, nil
}

// Has reports whether a module with digest is stored.
func (s ModuleStore) Has(ctx context.Context, digest string) (bool, error) {
	_, err := s.Obj.GetInfo(ctx, objectName(digest))
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Put stores a module read from r under digest.
func (s ModuleStore) Put(ctx context.Context, digest string, r io.Reader) error {
	if _, err := s.Obj.Put(ctx, jetstream.ObjectMeta{Name: objectName(digest)}, r); err != nil {
		return fmt.Errorf("storing module %s: %w", digest, err)
	}
	return nil
}

// StateStore opens (creating if needed) the Object Store of checkpoint and
// savepoint files.
func StateStore(ctx context.Context, js jetstream.JetStream) (jetstream.ObjectStore, error) {
	obj, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket:      StateBucket,
		Description: "Weir checkpoint and savepoint files",
	})
	if err != nil {
		return nil, fmt.Errorf("opening object store %s: %w", StateBucket, err)
	}
	return obj, nil
}
