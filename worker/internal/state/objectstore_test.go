package state

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/weir-streams/weir/internal/embednats"
)

func newObjectStore(t *testing.T) FileStore {
	t.Helper()
	ns, err := embednats.Start(embednats.Options{Dir: t.TempDir(), Port: -1})
	must(t, err)
	t.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	nc, err := embednats.Connect(ns, "state-test")
	must(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	must(t, err)
	obj, err := js.CreateObjectStore(context.Background(), jetstream.ObjectStoreConfig{Bucket: "checkpoints"})
	must(t, err)
	return NewObjectStore(obj)
}

func TestObjectStoreFileStore(t *testing.T) {
	ctx := context.Background()
	s := newObjectStore(t)

	if has, err := s.Has(ctx, "job/a"); err != nil || has {
		t.Fatalf("Has of a missing object = %v, %v", has, err)
	}
	var buf bytes.Buffer
	if err := s.Get(ctx, "job/a", &buf); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of a missing object = %v, want ErrNotFound", err)
	}
	// Larger than a chunk (128 KiB), so the object has several.
	data := bytes.Repeat([]byte("0123456789"), 50_000)
	must(t, s.Put(ctx, "job/a", bytes.NewReader(data)))
	if has, err := s.Has(ctx, "job/a"); err != nil || !has {
		t.Fatalf("Has after Put = %v, %v", has, err)
	}
	buf.Reset()
	must(t, s.Get(ctx, "job/a", &buf))
	if !bytes.Equal(buf.Bytes(), data) {
		t.Fatalf("Get returned %d bytes, want the %d put", buf.Len(), len(data))
	}
	must(t, s.Put(ctx, "job/a", strings.NewReader("replaced")))
	buf.Reset()
	must(t, s.Get(ctx, "job/a", &buf))
	if buf.String() != "replaced" {
		t.Fatalf("Get after a second Put = %q", buf.String())
	}
	must(t, s.Delete(ctx, "job/a"))
	if has, _ := s.Has(ctx, "job/a"); has {
		t.Fatal("Has after Delete = true")
	}
	must(t, s.Delete(ctx, "job/a")) // idempotent
}

func TestCheckpointThroughTheObjectStore(t *testing.T) {
	store := newObjectStore(t)
	b := openTest(t, testOptions(nil))
	fill(t, b, 3000, "one")
	want1 := dump(t, b)
	h1 := checkpoint(t, b, store, 1, UploadOptions{Prefix: "job/j1/"})
	fill(t, b, 10, "two")
	want2 := dump(t, b)
	h2 := checkpoint(t, b, store, 2, UploadOptions{Prefix: "job/j1/"})
	if sharedWith(h2, h1) == 0 {
		t.Fatal("checkpoint 2 shares nothing through the object store")
	}
	equalMaps(t, "checkpoint 1", dump(t, restoreTest(t, testOptions(nil), store, []Handle{h1}, nil)), want1)
	equalMaps(t, "checkpoint 2", dump(t, restoreTest(t, testOptions(nil), store, []Handle{h2}, nil)), want2)

	must(t, store.Delete(context.Background(), h2.Files[len(h2.Files)-1].Object))
	_, err := Restore(context.Background(), testOptions(nil), store, []Handle{h2}, nil)
	if !errors.Is(err, ErrCorrupt) || !errors.Is(err, ErrNotFound) {
		t.Fatalf("Restore with a deleted object = %v, want ErrCorrupt and ErrNotFound", err)
	}
}
