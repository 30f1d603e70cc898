//go:build !wasip1

package weir

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestJSONGet(t *testing.T) {
	cases := []struct {
		doc, field, raw string
		kind            JSONKind
	}{
		{`{"amount":12}`, "amount", `12`, KindNumber},
		{" \t\r\n{ \"amount\" \n:\t-1.5e+3 , \"x\":1}", "amount", `-1.5e+3`, KindNumber},
		{`{"a":{"amount":1},"b":[1,{"amount":2}],"amount":3}`, "amount", `3`, KindNumber},
		{`{"s":"}{][\"amount\":9,\\","amount":"x"}`, "amount", `"x"`, KindString},
		{`{"am\u006funt":true}`, "amount", `true`, KindTrue},
		{`{"\"q\"":false}`, `"q"`, `false`, KindFalse},
		{`{"é":null}`, "é", `null`, KindNull},
		{`{"\u00e9":null}`, "é", `null`, KindNull},
		{`{"\ud83d\ude00":[]}`, "😀", `[]`, KindArray},
		{`{"\ud83d":{}}`, "\uFFFD", `{}`, KindObject},
		{`{"a/b":1,"a\/b":2}`, "a/b", `1`, KindNumber}, // first wins
		{`{"":0}`, "", `0`, KindNumber},
		{`{"amount":1}garbage`, "amount", `1`, KindNumber},    // the rest is not read
		{`{"amount":1, "b": nope`, "amount", `1`, KindNumber}, // the rest is not read
		{`{"x":[[[[{"y":[]}]]]],"amount":{"a":[1,"2",{}]}}`, "amount", `{"a":[1,"2",{}]}`, KindObject},
	}
	for _, c := range cases {
		raw, kind, ok := JSONGet([]byte(c.doc), c.field)
		if !ok || string(raw) != c.raw || kind != c.kind {
			t.Errorf("JSONGet(%s, %q) = %s, %v, %v; want %s, %v", c.doc, c.field, raw, kind, ok, c.raw, c.kind)
		}
	}
	missing := []string{
		``, ` `, `[]`, `"amount"`, `{}`, `{"amount"}`, `{"amount":}`, `{"amount":1`, `{"amount":1 2}`,
		`{"amount":01}`, `{"amount":1.}`, `{"amount":.5}`, `{"amount":1e}`, `{"amount":-}`, `{"amount":+1}`,
		`{"amount":tru}`, `{"amount":True}`, `{"amount":nul}`, `{"amount":"x}`, `{"amount":'x'}`,
		`{"b":1,}`, `{"b":1 "amount":2}`, `{"b":[1,]"amount":2}`, `{"b":{"c"},"amount":2}`,
		`{"b":"\x","amount":2}`, `{"b":"\u12g4","amount":2}`, "{\"b\":\"\x01\",\"amount\":2}",
		`{"b":[1 2],"amount":2}`, `{"b":{"c":1,},"amount":2}`, `{"b":[,1],"amount":2}`,
		`{"Amount":1}`, `{"amount ":1}`, `{"amoun":1}`, `{"amountt":1}`, `{"amo\"unt":1}`,
		`{"x":1}`, `{amount:1}`, `{"amount":1;}`,
	}
	for _, d := range missing {
		if raw, kind, ok := JSONGet([]byte(d), "amount"); ok {
			t.Errorf("JSONGet(%s) = %s, %v; want not found", d, raw, kind)
		}
	}
}

func TestJSONDepth(t *testing.T) {
	nest := func(n int) string {
		return `{"x":` + strings.Repeat("[", n-1) + strings.Repeat("]", n-1) + `,"amount":1}`
	}
	if _, _, ok := JSONGet([]byte(nest(MaxJSONDepth)), "amount"); !ok {
		t.Errorf("depth %d refused", MaxJSONDepth)
	}
	if _, _, ok := JSONGet([]byte(nest(MaxJSONDepth+1)), "amount"); ok {
		t.Errorf("depth %d accepted", MaxJSONDepth+1)
	}
	if !JSONValid([]byte(strings.Repeat("[", MaxJSONDepth) + strings.Repeat("]", MaxJSONDepth))) {
		t.Errorf("JSONValid refused depth %d", MaxJSONDepth)
	}
	if JSONValid([]byte(strings.Repeat("[", MaxJSONDepth+1) + strings.Repeat("]", MaxJSONDepth+1))) {
		t.Errorf("JSONValid accepted depth %d", MaxJSONDepth+1)
	}
}

func TestJSONValidAgreesWithEncodingJSON(t *testing.T) {
	docs := []string{
		`0`, `-0`, `1.5e-7`, `"x"`, `"\ud800"`, `[]`, `{}`, `[1,"a",{"b":null}]`, ` {"a" : [ true , false ] } `,
		``, ` `, `01`, `1.`, `[1,]`, `{"a":1,}`, `{"a" 1}`, `"\a"`, "\"\t\"", `nul`, `[}`, `{]`, `{} x`, `[1]]`,
		"\"\xff\"", `1e5`, `1E+5`, `-`, `--1`, `{"a":{"b":{"c":[[]]}}}`, "\u00a0{}",
	}
	for _, d := range docs {
		if got, want := JSONValid([]byte(d)), json.Valid([]byte(d)); got != want {
			t.Errorf("JSONValid(%q) = %v, encoding/json says %v", d, got, want)
		}
	}
}

func TestJSONInt(t *testing.T) {
	cases := []struct {
		raw  string
		want int64
		ok   bool
	}{
		{`0`, 0, true}, {`-0`, 0, true}, {`7`, 7, true}, {`-12`, -12, true},
		{`9223372036854775807`, math.MaxInt64, true}, {`-9223372036854775808`, math.MinInt64, true},
		{`9223372036854775808`, 0, false}, {`-9223372036854775809`, 0, false},
		{`18446744073709551615`, 0, false}, {`99999999999999999999`, 0, false},
		{`1.0`, 0, false}, {`1e2`, 0, false}, {`01`, 0, false}, {`-`, 0, false}, {``, 0, false}, {`+1`, 0, false},
		{`"1"`, 0, false},
	}
	for _, c := range cases {
		got, ok := JSONParseInt([]byte(c.raw))
		if got != c.want || ok != c.ok {
			t.Errorf("JSONParseInt(%s) = %d, %v; want %d, %v", c.raw, got, ok, c.want, c.ok)
		}
		doc := `{"n":` + c.raw + `}`
		if json.Valid([]byte(doc)) {
			got, ok := JSONInt([]byte(doc), "n")
			if got != c.want || ok != c.ok {
				t.Errorf("JSONInt(%s) = %d, %v; want %d, %v", doc, got, ok, c.want, c.ok)
			}
		}
	}
}

func TestJSONFloatBoolString(t *testing.T) {
	doc := []byte(`{"f":-2.5e1,"i":3,"big":1e400,"t":true,"n":null,"s":"plain","e":"a\"b\u00e9\ud83d\ude00\ud800\n","o":{}}`)
	if f, ok := JSONFloat(doc, "f"); !ok || f != -25 {
		t.Errorf("f = %v %v", f, ok)
	}
	if f, ok := JSONFloat(doc, "i"); !ok || f != 3 {
		t.Errorf("i = %v %v", f, ok)
	}
	if _, ok := JSONFloat(doc, "big"); ok {
		t.Errorf("1e400 parsed")
	}
	if _, ok := JSONFloat(doc, "s"); ok {
		t.Errorf("string parsed as float")
	}
	if v, ok := JSONBool(doc, "t"); !ok || !v {
		t.Errorf("t = %v %v", v, ok)
	}
	if _, ok := JSONBool(doc, "n"); ok {
		t.Errorf("null as bool")
	}
	s, ok := JSONString(doc, "s")
	if !ok || string(s) != "plain" {
		t.Errorf("s = %q %v", s, ok)
	}
	if &s[0] != &doc[strings.Index(string(doc), "plain")] {
		t.Errorf("unescaped string copied")
	}
	var want string
	json.Unmarshal([]byte(`"a\"b\u00e9\ud83d\ude00\ud800\n"`), &want)
	if e, ok := JSONString(doc, "e"); !ok || string(e) != want {
		t.Errorf("e = %q %v; want %q", e, ok, want)
	}
	if _, ok := JSONString(doc, "o"); ok {
		t.Errorf("object as string")
	}
}

func TestJSONReplace(t *testing.T) {
	doc := []byte(` { "a" : [1, {"amount": 5}] , "amount" : 12 , "z":"amount"} `)
	got, ok := JSONReplace([]byte("prefix:"), doc, "amount", []byte("1200"))
	want := `prefix: { "a" : [1, {"amount": 5}] , "amount" : 1200 , "z":"amount"} `
	if !ok || string(got) != want {
		t.Errorf("got %s, %v", got, ok)
	}
	got, ok = JSONReplace(nil, doc, "missing", []byte("1"))
	if ok || string(got) != string(doc) {
		t.Errorf("missing: got %s, %v", got, ok)
	}
}

func TestJSONArrayEach(t *testing.T) {
	var got []string
	var kinds []JSONKind
	ok := JSONArrayEach([]byte(`[ "a" , 1,{"b":[2]},[] ,null ]`), func(e []byte, k JSONKind) bool {
		got = append(got, string(e))
		kinds = append(kinds, k)
		return true
	})
	want := []string{`"a"`, `1`, `{"b":[2]}`, `[]`, `null`}
	if !ok || strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q %v", got, ok)
	}
	if kinds[0] != KindString || kinds[2] != KindObject || kinds[4] != KindNull {
		t.Errorf("kinds %v", kinds)
	}
	n := 0
	JSONArrayEach([]byte(`[1,2,3]`), func([]byte, JSONKind) bool { n++; return n < 2 })
	if n != 2 {
		t.Errorf("did not stop: %d", n)
	}
	for _, bad := range []string{``, `[`, `[1,]`, `{}`, `[1] `, ` [1]`} {
		if JSONArrayEach([]byte(bad), func([]byte, JSONKind) bool { t.Errorf("called for %q", bad); return true }) {
			t.Errorf("%q accepted", bad)
		}
	}
	if !JSONArrayEach([]byte(`[ ]`), func([]byte, JSONKind) bool { t.Error("called"); return true }) {
		t.Errorf("empty array refused")
	}
}

func TestUnmarshalMarshal(t *testing.T) {
	var v struct{ Factor int }
	if err := Unmarshal([]byte(`{"factor":3}`), &v); err != nil || v.Factor != 3 {
		t.Fatalf("%v %v", v, err)
	}
	b, err := Marshal(v)
	if err != nil || string(b) != `{"Factor":3}` {
		t.Fatalf("%s %v", b, err)
	}
}

func TestJSONKindString(t *testing.T) {
	if KindNumber.String() != "number" || JSONKind(99).String() != "JSONKind(99)" {
		t.Errorf("%v %v", KindNumber, JSONKind(99))
	}
}
