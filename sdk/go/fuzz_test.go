//go:build !wasip1

package weir

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// FuzzJSONGet checks the scanner against encoding/json: it never panics, agrees
// on validity, and on a valid object finds exactly the member encoding/json
// finds whenever the name occurs once.
func FuzzJSONGet(f *testing.F) {
	for _, s := range []string{
		`{"amount":12}`, `{"a":{"amount":1},"b":[1,{"amount":2}],"amount":3}`,
		`{"s":"}{][\"amount\":9,\\","amount":"x"}`, `{"am\u006funt":true}`, `{"\ud83d\ude00":[]}`,
		`{"amount":-1.5e+3}`, `[1,2]`, `{"amount":1,"amount":2}`, `{"x":[[[]]],"amount":null}`, "{\"a\x00\":1}",
	} {
		f.Add([]byte(s), "amount")
	}
	f.Fuzz(func(t *testing.T, data []byte, field string) {
		raw, kind, ok := JSONGet(data, field)
		valid := JSONValid(data)
		if valid != json.Valid(data) && depthOf(data) <= MaxJSONDepth {
			t.Fatalf("JSONValid(%q) = %v, encoding/json disagrees", data, valid)
		}
		if ok {
			if !JSONValid(raw) || kindOf(raw[0]) != kind {
				t.Fatalf("JSONGet(%q, %q) = %q, %v: not one value of that kind", data, field, raw, kind)
			}
			if rep, rok := JSONReplace(nil, data, field, raw); !rok || !bytes.Equal(rep, data) {
				t.Fatalf("JSONReplace with the same value changed %q into %q", data, rep)
			}
		}
		if !valid || kind == KindInvalid && ok {
			return
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(data, &m) != nil {
			if ok {
				t.Fatalf("JSONGet(%q) found a member of a non-object", data)
			}
			return
		}
		want, present := m[field]
		if n := occurrences(t, data, field); n > 1 || !utf8.Valid(data) || !utf8.ValidString(field) {
			// By design: the first member wins here, the last in encoding/json,
			// which also replaces invalid UTF-8 in names with U+FFFD.
			return
		}
		if present != ok || (ok && !bytes.Equal(raw, want)) {
			t.Fatalf("JSONGet(%q, %q) = %q, %v; encoding/json: %q, %v", data, field, raw, ok, want, present)
		}
	})
}

// occurrences counts the top-level members called field in a valid object.
func occurrences(t *testing.T, data []byte, field string) int {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	n := 0
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		if tok.(string) == field {
			n++
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// depthOf over-approximates the nesting of data by counting brackets.
func depthOf(data []byte) int {
	d, max := 0, 0
	for _, c := range data {
		switch c {
		case '[', '{':
			d++
			if d > max {
				max = d
			}
		case ']', '}':
			d--
		}
	}
	return max
}

// FuzzDecodeBatch checks the batch decoder: it never panics, never reads past
// the frame, and whatever it accepts re-encodes to the same bytes.
func FuzzDecodeBatch(f *testing.F) {
	f.Add(batchFrame(
		testRecord{Flags: flagKey | flagTimestamp | flagPayload | flagHeaders, Key: "k", Timestamp: 9, Payload: `{"a":1}`,
			Headers: [][2]string{{"h", "v"}, {"h", "w"}}},
		testRecord{Flags: flagPayload, Payload: ""}))
	f.Add(payloads("a", "bb", "ccc"))
	f.Add([]byte{0, 0, 0, 0})
	f.Add([]byte{1, 0, 0, 0, 0x10})
	f.Fuzz(func(t *testing.T, data []byte) {
		var br batchReader
		if br.reset(data) != nil {
			return
		}
		out := binary.LittleEndian.AppendUint32(nil, uint32(br.count))
		var r Record
		for {
			more, err := br.read(&r)
			if err != nil {
				return
			}
			if !more {
				break
			}
			tr := testRecord{Flags: r.flags, Key: string(r.key), Timestamp: r.timestamp, Payload: string(r.Payload())}
			for n, v := range r.Headers() {
				tr.Headers = append(tr.Headers, [2]string{string(n), string(v)})
			}
			out = appendTestRecord(out, tr)
		}
		if !bytes.Equal(out, data) {
			t.Fatalf("decoded %q, re-encoded %q", data, out)
		}
	})
}
