package spec

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// maxNodes bounds the nodes a decoder visits. Aliases let a small document stand for
// an enormous tree (the "billion laughs"); yaml.v3 guards against that only when it
// decodes into Go values, and this package walks nodes itself.
const maxNodes = 1 << 20

// decoder turns the YAML node tree of a job spec into a Job. It records each problem
// and carries on, so that Parse can report the first by position; a value with a
// problem is left at its zero value. A decoder is used once, by one goroutine.
type decoder struct {
	errs []*Error
	// pos holds the position of every value decoded, by field path, for the
	// messages of Validate.
	pos map[string]position
	// budget is the number of nodes left to visit. exhausted is the error that
	// reports it spent: once it is, the walk is cut short, and other errors are
	// artifacts of that.
	budget    int
	exhausted *Error
	// active holds the nodes being walked into, to catch an alias inside the
	// value it names.
	active map[*yaml.Node]bool
}

type position struct{ line, column int }

func newDecoder() *decoder {
	return &decoder{pos: map[string]position{}, budget: maxNodes, active: map[*yaml.Node]bool{}}
}

func (d *decoder) errorf(n *yaml.Node, field, format string, args ...any) {
	d.errs = append(d.errs, &Error{Msg: fmt.Sprintf(format, args...), Field: field, Line: n.Line, Column: n.Column})
}

func (d *decoder) unsupported(n *yaml.Node, field, format string, args ...any) {
	d.errorf(n, field, format, args...)
	d.errs[len(d.errs)-1].Unsupported = true
}

// record notes where the value of field is.
func (d *decoder) record(field string, n *yaml.Node) {
	d.pos[field] = position{n.Line, n.Column}
}

// spend takes one node from the budget, reporting once when there is none left.
func (d *decoder) spend(n *yaml.Node, field string) bool {
	if d.budget <= 0 {
		if d.exhausted == nil {
			d.errorf(n, field, "the document is too large once its aliases are expanded (more than %d nodes)", maxNodes)
			d.exhausted = d.errs[len(d.errs)-1]
		}
		return false
	}
	d.budget--
	return true
}

// follow returns the node an alias names (or n itself), for a walk that descends
// into it; the walk calls unfollow(n) when done. It reports an alias inside the
// value it names, which would make the walk endless.
func (d *decoder) follow(n *yaml.Node, field string) (*yaml.Node, bool) {
	t := deref(n)
	if t.Kind == yaml.AliasNode || d.active[t] {
		d.errorf(n, field, "alias *%s refers to a value that contains it", n.Value)
		return nil, false
	}
	d.active[t] = true
	return t, true
}

func (d *decoder) unfollow(n *yaml.Node) {
	delete(d.active, deref(n))
}

// deref returns the node an alias names, or n itself, for reading a value that is
// not descended into.
func deref(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return n.Alias
	}
	return n
}

// pair is one key and its value.
type pair struct {
	key, val *yaml.Node
	soon     bool // the key is known but not supported yet
}

// fields are the known keys of one mapping of the document.
type fields struct {
	node  *yaml.Node // the mapping (or the alias naming it), where "required" points
	path  string
	pairs []pair // known keys, supported or not, in document order
	index map[string]pair
	// typos are the keys suggested for unknown keys: a required key among them
	// is not reported missing, since the unknown key's error says what to fix.
	typos map[string]bool
}

// get returns the supported key named key.
func (f *fields) get(key string) (pair, bool) {
	p, ok := f.index[key]
	return p, ok && !p.soon
}

// has reports whether the mapping has the known key, supported or not.
func (f *fields) has(key string) bool {
	_, ok := f.index[key]
	return ok
}

// require returns the supported key named key, reporting it missing.
func (d *decoder) require(f *fields, key string) (pair, bool) {
	p, ok := f.get(key)
	if !f.has(key) && !f.typos[key] {
		d.errorf(f.node, joinField(f.path, key), "required")
	}
	return p, ok
}

// fields reads the mapping n at path against the grammar sh: it reports an unknown
// key, a duplicate key and a reserved key ("not supported yet", then the unknown
// keys inside it), and returns the known keys. It reports a value that is not a
// mapping and returns false.
func (d *decoder) fields(n *yaml.Node, path string, sh *shape) (*fields, bool) {
	m := deref(n)
	if m.Kind != yaml.MappingNode {
		d.errorf(n, path, "expected a mapping, got %s", describe(m))
		return nil, false
	}
	f := &fields{node: n, path: path, index: map[string]pair{}, typos: map[string]bool{}}
	for _, p := range d.pairs(m, path) {
		k := deref(p.key).Value
		fl, ok := sh.keys[k]
		if !ok {
			f.typos[d.unknownKey(p.key, path, k, sh)] = true
			continue
		}
		if fl.soon {
			p.soon = true
			d.unsupported(p.key, joinField(path, k), "not supported yet")
			d.checkKeys(p.val, joinField(path, k), fl.shape)
		}
		f.pairs = append(f.pairs, p)
		f.index[k] = p
	}
	return f, true
}

// unknownKey reports the unknown key k and returns the key it suggests, or "".
func (d *decoder) unknownKey(key *yaml.Node, path, k string, sh *shape) string {
	s := suggest(k, keysOf(sh))
	hint := ""
	if s != "" {
		hint = fmt.Sprintf(" (did you mean %q?)", s)
	}
	d.errorf(key, path, "unknown key %s%s", quote(k), hint)
	return s
}

// pairs returns the keys and values of the mapping m: its own, then those merged in
// with "<<" that it does not override. It reports keys that are not scalars and
// duplicate keys.
func (d *decoder) pairs(m *yaml.Node, path string) []pair {
	var (
		out    []pair
		merges []*yaml.Node
		seen   = map[string]*yaml.Node{}
	)
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if !d.spend(k, path) {
			return out
		}
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		kk := deref(k)
		if kk.Kind != yaml.ScalarNode {
			d.errorf(k, path, "expected a string key, got %s", describe(kk))
			continue
		}
		if prev, dup := seen[kk.Value]; dup {
			d.errorf(k, path, "duplicate key %s (first at line %d)", quote(kk.Value), prev.Line)
			continue
		}
		seen[kk.Value] = k
		out = append(out, pair{key: k, val: v})
	}
	// Merged keys come after the mapping's own, which override them; among merged
	// mappings, the earlier wins, as YAML's merge key says.
	for _, v := range merges {
		for _, p := range d.merged(v, path) {
			if k := deref(p.key).Value; seen[k] == nil {
				seen[k] = p.key
				out = append(out, p)
			}
		}
	}
	return out
}

// merged returns the pairs that the value of a merge key brings: a mapping's, or
// those of each mapping of a list.
func (d *decoder) merged(v *yaml.Node, path string) []pair {
	t, ok := d.follow(v, path)
	if !ok {
		return nil
	}
	defer d.unfollow(v)
	switch t.Kind {
	case yaml.MappingNode:
		return d.pairs(t, path)
	case yaml.SequenceNode:
		var out []pair
		for _, item := range t.Content {
			if deref(item).Kind != yaml.MappingNode {
				d.errorf(item, path, "a merge key (<<) takes a mapping or a list of mappings, got %s in the list", describe(deref(item)))
				continue
			}
			out = append(out, d.merged(item, path)...)
		}
		return out
	}
	d.errorf(v, path, "a merge key (<<) takes a mapping or a list of mappings, got %s", describe(t))
	return nil
}

// checkKeys reports the unknown keys in the value n of a reserved key, against the
// grammar sh; it checks nothing else.
func (d *decoder) checkKeys(n *yaml.Node, path string, sh *shape) {
	if sh == nil || !d.spend(n, path) {
		return
	}
	t, ok := d.follow(n, path)
	if !ok {
		return
	}
	defer d.unfollow(n)
	switch {
	case sh.keys != nil && t.Kind == yaml.MappingNode:
		for _, p := range d.pairs(t, path) {
			k := deref(p.key).Value
			fl, ok := sh.keys[k]
			if !ok {
				d.unknownKey(p.key, path, k, sh)
				continue
			}
			d.checkKeys(p.val, joinField(path, k), fl.shape)
		}
	case sh.items != nil && t.Kind == yaml.SequenceNode:
		for i, item := range t.Content {
			d.checkKeys(item, fmt.Sprintf("%s[%d]", path, i), sh.items)
		}
	}
}

// scalar returns the scalar that n stands for when its resolved tag is one of tags,
// and otherwise reports that want was expected.
func (d *decoder) scalar(n *yaml.Node, field, want string, tags ...string) (*yaml.Node, bool) {
	t := deref(n)
	if t.Kind == yaml.ScalarNode && slices.Contains(tags, t.ShortTag()) {
		d.record(field, n)
		return t, true
	}
	d.errorf(n, field, "expected %s, got %s", want, describe(t))
	return nil, false
}

// str reads a string. Numbers and times are taken as written, so that `id: 42` and
// `stream: 2024` need no quotes; null and booleans are refused.
func (d *decoder) str(n *yaml.Node, field string) (string, bool) {
	t, ok := d.scalar(n, field, "a string", "!!str", "!!int", "!!float", "!!timestamp")
	if !ok {
		return "", false
	}
	return t.Value, true
}

func (d *decoder) integer(n *yaml.Node, field string) (int64, bool) {
	t, ok := d.scalar(n, field, "an integer", "!!int")
	if !ok {
		return 0, false
	}
	var v int64
	if err := t.Decode(&v); err != nil {
		d.errorf(n, field, "expected an integer, got %s (out of range)", describe(t))
		return 0, false
	}
	return v, true
}

// float reads a number, integer or not.
func (d *decoder) float(n *yaml.Node, field string) (float64, bool) {
	t, ok := d.scalar(n, field, "a number", "!!float", "!!int")
	if !ok {
		return 0, false
	}
	var v float64
	if err := t.Decode(&v); err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		d.errorf(n, field, "expected a finite number, got %s", describe(t))
		return 0, false
	}
	return v, true
}

func (d *decoder) boolean(n *yaml.Node, field string) (bool, bool) {
	t, ok := d.scalar(n, field, "a boolean (true or false)", "!!bool")
	if !ok {
		return false, false
	}
	var v bool
	if err := t.Decode(&v); err != nil {
		d.errorf(n, field, "expected a boolean (true or false), got %s", describe(t))
		return false, false
	}
	return v, true
}

// duration reads a duration in Go's syntax.
func (d *decoder) duration(n *yaml.Node, field string) (time.Duration, bool) {
	t, ok := d.scalar(n, field, "a duration like 500ms or 10s", "!!str", "!!int", "!!float")
	if !ok {
		return 0, false
	}
	v, err := time.ParseDuration(t.Value)
	if err != nil {
		d.errorf(n, field, "invalid duration %s: use Go's syntax, like 500ms, 10s or 5m", quote(t.Value))
		return 0, false
	}
	return v, true
}

// size reads a size: bytes, or a number with a unit (see ParseSize).
func (d *decoder) size(n *yaml.Node, field string) (int64, bool) {
	t, ok := d.scalar(n, field, "a size like 64MiB", "!!str", "!!int")
	if !ok {
		return 0, false
	}
	v, err := ParseSize(t.Value)
	if err != nil {
		d.errorf(n, field, "invalid size %s: use bytes or a number with a unit, like 512KiB, 64MiB, 1GiB or 100MB", quote(t.Value))
		return 0, false
	}
	return v, true
}

// describe names what a node holds, for "expected X, got Y".
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "null"
		case "!!str":
			return quote(n.Value)
		case "!!int", "!!float", "!!bool", "!!timestamp":
			return truncate(n.Value)
		}
		return "a value tagged " + truncate(n.ShortTag())
	case yaml.AliasNode:
		return "an alias"
	}
	return "nothing"
}

// quote quotes a value of the document for a message, shortening a long one.
func quote(s string) string { return strconv.Quote(truncate(s)) }

func truncate(s string) string {
	const max = 64
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max]) + "…"
}
