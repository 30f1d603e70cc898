package control

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/weir-streams/weir/internal/meta"
	"github.com/weir-streams/weir/wasmhost"
)

// DefaultMaxModuleSize caps an uploaded module (DESIGN §6).
const DefaultMaxModuleSize = 64 << 20

var moduleName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ModuleVersion is one upload of a module.
type ModuleVersion struct {
	Digest     string              `json:"digest"`
	Size       int64               `json:"size"`
	UploadedAt time.Time           `json:"uploaded_at"`
	ABIVersion int                 `json:"abi_version"`
	Functions  []wasmhost.Function `json:"functions"`
}

// ModuleRecord is a module name, pointing to its latest upload.
type ModuleRecord struct {
	Name string `json:"name"`
	ModuleVersion
	// History lists every upload under the name, newest first.
	History []ModuleVersion `json:"history,omitempty"`
}

func moduleKey(name string) string { return "modules." + name }

// version returns the upload of the record with digest, or nil.
func (m *ModuleRecord) version(digest string) *ModuleVersion {
	for i := range m.History {
		if m.History[i].Digest == digest {
			return &m.History[i]
		}
	}
	return nil
}

// uploadModule streams r to a temporary file while hashing it and enforcing the size
// cap, validates the module, stores it by digest and points name at it.
func (c *Control) uploadModule(ctx context.Context, name string, r io.Reader) (*ModuleRecord, error) {
	if !moduleName.MatchString(name) {
		if name == "" {
			return nil, invalid("name", 0, 0, "a module name is required (?name= or the multipart field \"name\")")
		}
		return nil, invalid("name", 0, 0, "module name %q: want 1-64 characters of [A-Za-z0-9_-]", name)
	}
	f, err := os.CreateTemp("", "weir-upload-*.wasm")
	if err != nil {
		return nil, fmt.Errorf("buffering upload: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(r, c.opts.MaxModuleSize+1))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, fmt.Errorf("%w: the module exceeds the %d-byte limit", ErrTooLarge, c.opts.MaxModuleSize)
		}
		return nil, fmt.Errorf("%w: reading the module: %v", ErrInvalid, err)
	}
	if n > c.opts.MaxModuleSize {
		return nil, fmt.Errorf("%w: the module exceeds the %d-byte limit", ErrTooLarge, c.opts.MaxModuleSize)
	}
	if n == 0 {
		return nil, invalid("module", 0, 0, "the module is empty")
	}
	digest := meta.DigestPrefix + hex.EncodeToString(h.Sum(nil))
	// Compiling needs the whole module in memory; the upload itself never was.
	wasm, err := os.ReadFile(f.Name())
	if err != nil {
		return nil, fmt.Errorf("reading buffered upload: %w", err)
	}
	desc, err := c.rt.Validate(ctx, wasm)
	if err != nil {
		if errors.Is(err, wasmhost.ErrInvalidModule) {
			return nil, invalid("module", 0, 0, "%s", strings.TrimPrefix(err.Error(), wasmhost.ErrInvalidModule.Error()+": "))
		}
		return nil, err
	}
	has, err := c.modules.Has(ctx, digest)
	if err != nil {
		return nil, err
	}
	if !has {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		if err := c.modules.Put(ctx, digest, f); err != nil {
			return nil, err
		}
	}
	v := ModuleVersion{Digest: digest, Size: n, UploadedAt: time.Now().UTC(), ABIVersion: desc.ABIVersion, Functions: desc.Functions}
	for attempt := 0; ; attempt++ {
		var rec ModuleRecord
		rev, err := c.store.get(ctx, moduleKey(name), &rec)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		rec.Name = name
		rec.ModuleVersion = v
		hist := []ModuleVersion{v}
		for _, old := range rec.History {
			if old.Digest != digest {
				hist = append(hist, old)
			}
		}
		rec.History = hist
		if _, err := c.store.put(ctx, moduleKey(name), rev, &rec); err != nil {
			if errors.Is(err, ErrConflict) && attempt < 5 {
				continue
			}
			return nil, err
		}
		return &rec, nil
	}
}

func (c *Control) getModule(ctx context.Context, name string) (*ModuleRecord, uint64, error) {
	var rec ModuleRecord
	rev, err := c.store.get(ctx, moduleKey(name), &rec)
	if errors.Is(err, ErrNotFound) {
		return nil, 0, fmt.Errorf("%w: no module named %q", ErrNotFound, name)
	}
	return &rec, rev, err
}

func (c *Control) listModules(ctx context.Context) ([]ModuleRecord, error) {
	keys, err := c.store.keys(ctx, "modules.")
	if err != nil {
		return nil, err
	}
	out := make([]ModuleRecord, 0, len(keys))
	for _, k := range keys {
		var rec ModuleRecord
		if _, err := c.store.get(ctx, k, &rec); err != nil {
			if errors.Is(err, ErrNotFound) {
				continue
			}
			return nil, err
		}
		rec.History = nil
		out = append(out, rec)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// deleteModule removes a module name unless a live job uses one of its uploads.
func (c *Control) deleteModule(ctx context.Context, name string) error {
	_, rev, err := c.getModule(ctx, name)
	if err != nil {
		return err
	}
	for _, j := range c.jobsSnapshot() {
		if isTerminal(j.Status) {
			continue
		}
		if _, ok := j.Modules[name]; ok {
			return fmt.Errorf("%w: module %q is used by job %s (%s), which is %s: cancel it first", ErrConflict, name, j.ID, j.Name, j.Status)
		}
	}
	// The module bytes stay in the store: finished jobs still name their digests.
	return c.store.del(ctx, moduleKey(name), rev)
}
