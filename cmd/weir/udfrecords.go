package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/weir-streams/weir/internal/record"
)

// The JSON-lines form of records that `weir udf test` reads and writes (its
// --help describes it).

// envelopeMembers are the members of a record line; a JSON object with any other
// member is a payload.
var envelopeMembers = map[string]bool{
	"key": true, "key_base64": true, "timestamp": true,
	"payload": true, "payload_base64": true, "headers": true,
}

// parseRecordLine decodes one input line into v (which then owns copies of the
// bytes it needs).
func parseRecordLine(line []byte, raw bool, v *record.View) error {
	*v = record.View{Flags: record.FlagPayload, Payload: bytes.Clone(line)}
	if raw {
		return nil
	}
	trimmed := bytes.TrimSpace(line)
	if len(trimmed) == 0 || trimmed[0] != '{' || !json.Valid(trimmed) {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &m); err != nil || len(m) == 0 {
		return nil
	}
	for k := range m {
		if !envelopeMembers[k] {
			return nil // a payload that happens to be an object
		}
	}
	*v = record.View{Flags: record.FlagPayload}
	var err error
	if v.Key, err = bytesMember(m, "key"); err != nil {
		return err
	}
	if v.Key != nil {
		v.Flags |= record.FlagKey
	}
	if v.Payload, err = bytesMember(m, "payload"); err != nil {
		return err
	}
	if t, ok := m["timestamp"]; ok && string(t) != "null" {
		ts, err := strconv.ParseInt(string(t), 10, 64)
		if err != nil {
			return fmt.Errorf("timestamp %s: want integer milliseconds since the Unix epoch", t)
		}
		v.Flags |= record.FlagTimestamp
		v.Timestamp = ts
	}
	if h, ok := m["headers"]; ok && string(h) != "null" {
		enc, n, err := parseHeaders(h)
		if err != nil {
			return err
		}
		v.Flags |= record.FlagHeaders
		v.Headers, v.HeaderCount = enc, n
	}
	return nil
}

// bytesMember reads name (a string as its text, another value as its JSON text)
// or name_base64; nil when neither is there (or both are null).
func bytesMember(m map[string]json.RawMessage, name string) ([]byte, error) {
	text, hasText := m[name]
	b64, hasB64 := m[name+"_base64"]
	if hasText && hasB64 {
		return nil, fmt.Errorf("both %s and %s_base64 are given", name, name)
	}
	switch {
	case hasText && string(text) != "null":
		if text[0] == '"' {
			var s string
			if err := json.Unmarshal(text, &s); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			return []byte(s), nil
		}
		return bytes.Clone(text), nil
	case hasB64 && string(b64) != "null":
		var s string
		if err := json.Unmarshal(b64, &s); err != nil {
			return nil, fmt.Errorf("%s_base64: want a string", name)
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("%s_base64: %w", name, err)
		}
		return b, nil
	}
	return nil, nil
}

// parseHeaders encodes a headers object, in the order written, as the record
// framing's header section.
func parseHeaders(raw json.RawMessage) ([]byte, uint32, error) {
	bad := errors.New(`headers: want an object of "name": "value" (or an array of values)`)
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, 0, bad
	}
	var enc []byte
	var n uint32
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, 0, bad
		}
		name := t.(string)
		var val any
		if err := dec.Decode(&val); err != nil {
			return nil, 0, bad
		}
		switch x := val.(type) {
		case string:
			enc, n = record.AppendHeader(enc, name, x), n+1
		case []any:
			for _, e := range x {
				s, ok := e.(string)
				if !ok {
					return nil, 0, bad
				}
				enc, n = record.AppendHeader(enc, name, s), n+1
			}
		default:
			return nil, 0, bad
		}
	}
	return enc, n, nil
}

// appendRecordLine appends v as one output line, newline included.
func appendRecordLine(dst []byte, v *record.View) ([]byte, error) {
	dst = append(dst, '{')
	sep := func() {
		if dst[len(dst)-1] != '{' {
			dst = append(dst, ',')
		}
	}
	if v.HasKey() {
		sep()
		dst = appendBytesMember(dst, "key", v.Key)
	}
	if v.HasTimestamp() {
		sep()
		dst = append(dst, `"timestamp":`...)
		dst = strconv.AppendInt(dst, v.Timestamp, 10)
	}
	if v.Flags&record.FlagPayload != 0 {
		sep()
		dst = appendBytesMember(dst, "payload", v.Payload)
	}
	if v.HasHeaders() {
		sep()
		dst = append(dst, `"headers":{`...)
		// Repeated names become one member with an array of values, at the
		// place of the first.
		type entry struct {
			name   string
			values []string
		}
		var entries []*entry
		index := map[string]*entry{}
		err := v.ForEachHeader(func(name, value []byte) error {
			e := index[string(name)]
			if e == nil {
				e = &entry{name: string(name)}
				index[e.name] = e
				entries = append(entries, e)
			}
			e.values = append(e.values, string(value))
			return nil
		})
		if err != nil {
			return nil, err
		}
		for i, e := range entries {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, e.name)
			dst = append(dst, ':')
			if len(e.values) == 1 {
				dst = appendJSONString(dst, e.values[0])
				continue
			}
			dst = append(dst, '[')
			for k, s := range e.values {
				if k > 0 {
					dst = append(dst, ',')
				}
				dst = appendJSONString(dst, s)
			}
			dst = append(dst, ']')
		}
		dst = append(dst, '}')
	}
	return append(dst, '}', '\n'), nil
}

// appendBytesMember writes b as member name the way parseRecordLine reads it
// back: a one-line JSON object or array as it is, other UTF-8 as a string, the
// rest as name_base64.
func appendBytesMember(dst []byte, name string, b []byte) []byte {
	if n := len(b); n >= 2 && (b[0] == '{' && b[n-1] == '}' || b[0] == '[' && b[n-1] == ']') &&
		bytes.IndexAny(b, "\r\n") < 0 && json.Valid(b) {
		dst = append(dst, '"')
		dst = append(dst, name...)
		dst = append(dst, `":`...)
		return append(dst, b...)
	}
	if utf8.Valid(b) {
		dst = append(dst, '"')
		dst = append(dst, name...)
		dst = append(dst, `":`...)
		return appendJSONString(dst, string(b))
	}
	dst = append(dst, '"')
	dst = append(dst, name...)
	dst = append(dst, `_base64":"`...)
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, '"')
}

// appendJSONString appends s as a JSON string, without encoding/json's escaping
// of <, > and &.
func appendJSONString(dst []byte, s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return append(dst, bytes.TrimSuffix(b.Bytes(), []byte("\n"))...)
}
