package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"

	"gopkg.in/yaml.v3"
)

// maxConfigSize bounds a step's config as JSON. It travels in the job's metadata and
// into every instance's open call, and a job's metadata shares a 1 MB NATS KV value
// with everything else (larger values move to the Object Store, but a config this
// large is a mistake).
const maxConfigSize = 1 << 20

// jsonNumber matches the numbers JSON can write as they are.
var jsonNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// config converts a step's config to JSON, faithfully: mappings become objects with
// their keys in document order, integers stay integers (digit for digit when JSON
// can write them so), strings stay strings. Null gives nil: no config.
func (d *decoder) config(n *yaml.Node, field string) json.RawMessage {
	var buf bytes.Buffer
	ok := d.toJSON(&buf, n, field)
	if buf.Len() > maxConfigSize {
		// toJSON stops, without a word, as soon as the config is too large.
		d.errorf(n, field, "larger than %s as JSON", formatSize(maxConfigSize))
		return nil
	}
	if !ok {
		return nil
	}
	if buf.String() == "null" {
		return nil
	}
	return buf.Bytes()
}

func (d *decoder) toJSON(buf *bytes.Buffer, n *yaml.Node, field string) bool {
	if !d.spend(n, field) || buf.Len() > maxConfigSize {
		return false
	}
	t, ok := d.follow(n, field)
	if !ok {
		return false
	}
	defer d.unfollow(n)
	switch t.Kind {
	case yaml.MappingNode:
		buf.WriteByte('{')
		for i, p := range d.pairs(t, field) {
			if i > 0 {
				buf.WriteByte(',')
			}
			k := deref(p.key).Value
			writeJSONString(buf, k)
			buf.WriteByte(':')
			if !d.toJSON(buf, p.val, joinField(field, k)) {
				return false
			}
		}
		buf.WriteByte('}')
	case yaml.SequenceNode:
		buf.WriteByte('[')
		for i, item := range t.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			if !d.toJSON(buf, item, fmt.Sprintf("%s[%d]", field, i)) {
				return false
			}
		}
		buf.WriteByte(']')
	case yaml.ScalarNode:
		return d.scalarJSON(buf, n, t, field)
	default:
		d.errorf(n, field, "cannot convert %s to JSON", describe(t))
		return false
	}
	return true
}

// scalarJSON writes the scalar t (which n stands for) as JSON.
func (d *decoder) scalarJSON(buf *bytes.Buffer, n, t *yaml.Node, field string) bool {
	switch t.ShortTag() {
	case "!!null":
		buf.WriteString("null")
	case "!!bool":
		var v bool
		if err := t.Decode(&v); err != nil {
			d.errorf(n, field, "expected a boolean, got %s", describe(t))
			return false
		}
		buf.WriteString(strconv.FormatBool(v))
	case "!!int":
		if jsonNumber.MatchString(t.Value) {
			buf.WriteString(t.Value)
			return true
		}
		// Hex, octal, underscores, a leading +: what YAML means by it.
		var v any
		if err := t.Decode(&v); err != nil {
			d.errorf(n, field, "expected an integer, got %s", describe(t))
			return false
		}
		switch v := v.(type) {
		case int:
			buf.WriteString(strconv.FormatInt(int64(v), 10))
		case int64:
			buf.WriteString(strconv.FormatInt(v, 10))
		case uint64:
			buf.WriteString(strconv.FormatUint(v, 10))
		default:
			d.errorf(n, field, "expected an integer, got %s", describe(t))
			return false
		}
	case "!!float":
		if jsonNumber.MatchString(t.Value) {
			buf.WriteString(t.Value)
			return true
		}
		var v float64
		if err := t.Decode(&v); err != nil {
			d.errorf(n, field, "expected a number, got %s", describe(t))
			return false
		}
		if math.IsInf(v, 0) || math.IsNaN(v) {
			d.errorf(n, field, "%s has no JSON form", truncate(t.Value))
			return false
		}
		buf.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
	default:
		// Strings, and values YAML would make times or binary: as written.
		writeJSONString(buf, t.Value)
	}
	return true
}

// writeJSONString writes s as a JSON string, leaving <, > and & as they are.
func writeJSONString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)           // a string always encodes
	buf.Truncate(buf.Len() - 1) // Encode ends with a newline
}
