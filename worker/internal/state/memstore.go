package state

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"sync"
)

// MemStore is an in-memory FileStore for tests, here and in other packages. It
// can corrupt and drop objects. Safe for concurrent use.
type MemStore struct {
	mu      sync.Mutex
	objects map[string][]byte // guarded by mu
	puts    int               // guarded by mu
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore { return &MemStore{objects: make(map[string][]byte)} }

// Put implements FileStore.
func (m *MemStore) Put(ctx context.Context, name string, r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("putting object %q: %w", name, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("putting object %q: %w", name, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objects[name] = data
	m.puts++
	return nil
}

// Get implements FileStore.
func (m *MemStore) Get(ctx context.Context, name string, w io.Writer) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("getting object %q: %w", name, err)
	}
	m.mu.Lock()
	data, ok := m.objects[name]
	m.mu.Unlock()
	if !ok {
		return fmt.Errorf("getting object %q: %w", name, ErrNotFound)
	}
	// A copy, because a writer may scramble what it is given (Pebble's MemFS
	// does under -race) and the stored slice must stay as it is.
	if _, err := w.Write(bytes.Clone(data)); err != nil {
		return fmt.Errorf("getting object %q: %w", name, err)
	}
	return nil
}

// Has implements FileStore.
func (m *MemStore) Has(ctx context.Context, name string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.objects[name]
	return ok, nil
}

// Delete implements FileStore.
func (m *MemStore) Delete(ctx context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objects, name)
	return nil
}

// Names returns the names of the stored objects, sorted.
func (m *MemStore) Names() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	names := make([]string, 0, len(m.objects))
	for n := range m.objects {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Puts returns how many objects were stored so far.
func (m *MemStore) Puts() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.puts
}

// Corrupt flips the bits of byte offset%size of the object; it reports false when
// the object is missing or empty.
func (m *MemStore) Corrupt(name string, offset int) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	data, ok := m.objects[name]
	if !ok || len(data) == 0 {
		return false
	}
	c := bytes.Clone(data)
	c[offset%len(c)] ^= 0xFF
	m.objects[name] = c
	return true
}
