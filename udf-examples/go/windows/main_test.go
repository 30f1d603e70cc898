package main

import (
	"encoding/binary"
	"encoding/json"
	"strings"
	"testing"
)

// statsOf builds an accumulator: clicks, then the pages as given.
func statsOf(clicks uint64, pages ...string) []byte {
	b := binary.LittleEndian.AppendUint64(nil, clicks)
	for _, p := range pages {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	return b
}

func TestSessionStatsPages(t *testing.T) {
	acc := newStats()
	var err error
	for _, p := range []string{"/b", "/a", "/b", "", "/ab", "/a"} {
		if acc, err = addPage(acc, []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	if want := statsOf(0, "", "/a", "/ab", "/b"); string(acc) != string(want) {
		t.Fatalf("pages %q, want %q", acc, want)
	}
	merged, err := mergeStats(statsOf(3, "/a", "/c"), statsOf(2, "/b", "/c", "/d"))
	if err != nil || string(merged) != string(statsOf(5, "/a", "/b", "/c", "/d")) {
		t.Fatalf("merge %q, %v", merged, err)
	}
	res, err := statsResult(merged)
	if err != nil || string(res) != `{"clicks":5,"pages":4}` {
		t.Fatalf("result %s, %v", res, err)
	}
	if res, _ := statsResult(newStats()); string(res) != `{"clicks":0,"pages":0}` {
		t.Fatalf("empty session: %s", res)
	}
	// A page seen before changes nothing and allocates nothing.
	seen := []byte("/ab")
	if n := testing.AllocsPerRun(100, func() { acc, _ = addPage(acc, seen) }); n != 0 {
		t.Fatalf("%.1f allocations adding a page seen before", n)
	}
}

func TestSessionStatsMalformed(t *testing.T) {
	for _, acc := range [][]byte{nil, make([]byte, 7), append(statsOf(1), 5, 0, 0, 0, 'x'), append(statsOf(1), 1)} {
		if _, err := addPage(acc, []byte("/z")); err == nil {
			t.Errorf("addPage(%q): no error", acc)
		}
		if _, err := mergeStats(statsOf(1), acc); err == nil {
			t.Errorf("mergeStats(_, %q): no error", acc)
		}
		if _, err := statsResult(acc); err == nil {
			t.Errorf("statsResult(%q): no error", acc)
		}
	}
}

func TestAppendKey(t *testing.T) {
	for _, c := range []struct{ key, want string }{
		{`"u1"`, `"u1"`},     // a key_by on a JSON string field
		{`"a\"b"`, `"a\"b"`}, // escapes kept
		{`42`, `"42"`},       // a number's text, quoted
		{`"unterminated`, `"\"unterminated"`},
		{"", `""`},
		{"a\x00\n\\", `"a\u0000\u000a\\"`},
		{"\xff", "\"\uFFFD\""},
	} {
		got := string(appendKey(nil, []byte(c.key)))
		if got != c.want {
			t.Errorf("appendKey(%q) = %s, want %s", c.key, got, c.want)
		}
		var s string
		if err := json.Unmarshal([]byte(got), &s); err != nil {
			t.Errorf("appendKey(%q) = %s: %v", c.key, got, err)
		}
		if !strings.HasPrefix(got, `"`) {
			t.Errorf("appendKey(%q) = %s: not a string", c.key, got)
		}
	}
}
