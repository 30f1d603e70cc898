package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/weir-streams/weir/internal/record"
)

func TestParseRecordLine(t *testing.T) {
	hdr := func(pairs ...string) []byte {
		var b []byte
		for i := 0; i < len(pairs); i += 2 {
			b = record.AppendHeader(b, pairs[i], pairs[i+1])
		}
		return b
	}
	cases := []struct {
		line string
		raw  bool
		want record.View
	}{
		{`{"key":"k","timestamp":5,"payload":"p"}`, false,
			record.View{Flags: record.FlagKey | record.FlagTimestamp | record.FlagPayload, Key: []byte("k"), Timestamp: 5, Payload: []byte("p")}},
		{`{"payload":{"a": 1}}`, false, record.View{Flags: record.FlagPayload, Payload: []byte(`{"a": 1}`)}},
		{`{"payload":[1,2]}`, false, record.View{Flags: record.FlagPayload, Payload: []byte(`[1,2]`)}},
		{`{"payload":12}`, false, record.View{Flags: record.FlagPayload, Payload: []byte(`12`)}},
		{`{"key_base64":"AP8=","payload_base64":""}`, false,
			record.View{Flags: record.FlagKey | record.FlagPayload, Key: []byte{0, 0xff}, Payload: []byte{}}},
		{`{"payload":"x","headers":{"b":"1","a":["2","3"]}}`, false,
			record.View{Flags: record.FlagPayload | record.FlagHeaders, Payload: []byte("x"), Headers: hdr("b", "1", "a", "2", "a", "3"), HeaderCount: 3}},
		// Not an envelope: the whole line is the payload.
		{`{"amount":12}`, false, record.View{Flags: record.FlagPayload, Payload: []byte(`{"amount":12}`)}},
		{`{"payload":1,"other":2}`, false, record.View{Flags: record.FlagPayload, Payload: []byte(`{"payload":1,"other":2}`)}},
		{`not json`, false, record.View{Flags: record.FlagPayload, Payload: []byte(`not json`)}},
		{`{}`, false, record.View{Flags: record.FlagPayload, Payload: []byte(`{}`)}},
		{`{"payload":"p"}`, true, record.View{Flags: record.FlagPayload, Payload: []byte(`{"payload":"p"}`)}},
	}
	for _, c := range cases {
		var v record.View
		if err := parseRecordLine([]byte(c.line), c.raw, &v); err != nil {
			t.Errorf("%s: %v", c.line, err)
			continue
		}
		if v.Payload == nil {
			v.Payload = []byte{}
		}
		if c.want.Payload == nil {
			c.want.Payload = []byte{}
		}
		if !reflect.DeepEqual(v, c.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.line, v, c.want)
		}
	}
	for _, bad := range []string{`{"timestamp":1.5}`, `{"key":"a","key_base64":"YQ=="}`, `{"payload_base64":"!"}`, `{"headers":{"a":1}}`} {
		var v record.View
		if err := parseRecordLine([]byte(bad), false, &v); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// TestRecordLineRoundTrip: what appendRecordLine writes, parseRecordLine reads
// back as the same record.
func TestRecordLineRoundTrip(t *testing.T) {
	views := []record.View{
		{Flags: record.FlagPayload, Payload: []byte(`{"a":1}`)},
		{Flags: record.FlagPayload, Payload: []byte(`"quoted"`)},
		{Flags: record.FlagPayload, Payload: []byte("{\"a\":\n1}")},
		{Flags: record.FlagPayload, Payload: []byte(`{"payload":1}`)},
		{Flags: record.FlagPayload, Payload: []byte(" [1] ")},
		{Flags: record.FlagKey | record.FlagTimestamp | record.FlagPayload | record.FlagHeaders, Key: []byte{0xff, 0},
			Timestamp: -3, Payload: []byte("é<&>"), Headers: record.AppendHeader(record.AppendHeader(nil, "h", "1"), "h", "2"), HeaderCount: 2},
	}
	for _, v := range views {
		line, err := appendRecordLine(nil, &v)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Count(string(line), "\n") != 1 {
			t.Errorf("%q is not one line", line)
		}
		var got record.View
		if err := parseRecordLine(line[:len(line)-1], false, &got); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if !reflect.DeepEqual(got, v) {
			t.Errorf("%s:\n got %+v\nwant %+v", line, got, v)
		}
	}
}

func TestUDFNewErrors(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	_, stderr, code := runWeir(t, "", "", "udf", "new", "--lang", "go", "--sdk", dir, "x")
	if code != 1 || !strings.Contains(stderr, "not Weir's sdk directory") {
		t.Errorf("bad --sdk: code %d, %s", code, stderr)
	}
	_, stderr, code = runWeir(t, "", "", "udf", "new", "--lang", "cobol", "x")
	if code != 2 || !strings.Contains(stderr, "want go, rust, c or as") {
		t.Errorf("bad --lang: code %d, %s", code, stderr)
	}
	_, stderr, code = runWeir(t, "", "", "udf", "new", "--lang", "go", "1x")
	if code != 2 || !strings.Contains(stderr, "NAME") {
		t.Errorf("bad NAME: code %d, %s", code, stderr)
	}
	// A Weir checkout's sdk directory, as far as finding it goes.
	sdk := filepath.Join(dir, "sdk")
	if err := os.MkdirAll(filepath.Join(sdk, "go"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(sdk, "ABI.md"), nil, 0o644)
	_, stderr, code = runWeir(t, "", "", "udf", "new", "--lang", "go", "x")
	if code != 1 || !strings.Contains(stderr, "the Go SDK is not in "+filepath.Join(sdk, "go")) {
		t.Errorf("SDK without go.mod: code %d, %s", code, stderr)
	}
	os.WriteFile(filepath.Join(sdk, "go", "go.mod"), nil, 0o644)
	stdout, stderr, code := runWeir(t, "", "", "udf", "new", "--lang", "go", "my-udf")
	if code != 0 {
		t.Fatalf("udf new: code %d, %s", code, stderr)
	}
	if !strings.Contains(stdout, "Made "+filepath.Join(dir, "my-udf")) {
		t.Errorf("stdout: %s", stdout)
	}
	gomod, _ := os.ReadFile(filepath.Join(dir, "my-udf", "go.mod"))
	main, _ := os.ReadFile(filepath.Join(dir, "my-udf", "main.go"))
	if !strings.Contains(string(gomod), "=> "+filepath.Join(sdk, "go")) || !strings.Contains(string(main), `weir.Map("my-udf", myUdf)`) {
		t.Errorf("go.mod:\n%s\nmain.go:\n%s", gomod, main)
	}
	_, stderr, code = runWeir(t, "", "", "udf", "new", "--lang", "go", "my-udf")
	if code != 1 || !strings.Contains(stderr, "not empty") {
		t.Errorf("existing directory: code %d, %s", code, stderr)
	}
}

// TestUDFNewLanguages expands every language's templates against a stand-in SDK
// directory: the files are there and refer to the SDK by its absolute path.
func TestUDFNewLanguages(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	sdk := filepath.Join(dir, "checkout", "sdk")
	for _, l := range udfLanguages {
		if err := os.MkdirAll(filepath.Join(sdk, l.sdk), 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(sdk, l.sdk, l.marker), nil, 0o644)
	}
	os.WriteFile(filepath.Join(sdk, "ABI.md"), nil, 0o644)
	want := map[string][]string{
		"go":   {"go.mod", "main.go", "Makefile", "README.md", "sample.jsonl", ".gitignore"},
		"rust": {"Cargo.toml", "src/lib.rs", ".cargo/config.toml", "Makefile", "README.md", "sample.jsonl"},
		"c":    {"udf.c", "Makefile", "README.md", "sample.jsonl"},
		"as":   {"package.json", "asconfig.json", "assembly/index.ts", "Makefile", "README.md", "sample.jsonl"},
	}
	for _, l := range udfLanguages {
		name := "p-" + l.name
		if _, stderr, code := runWeir(t, "", "", "udf", "new", "--lang", l.name, "--sdk", sdk, name); code != 0 {
			t.Fatalf("%s: code %d, %s", l.name, code, stderr)
		}
		var all strings.Builder
		for _, f := range want[l.name] {
			b, err := os.ReadFile(filepath.Join(dir, name, filepath.FromSlash(f)))
			if err != nil {
				t.Errorf("%s: %v", l.name, err)
			}
			all.Write(b)
		}
		if s := all.String(); strings.Contains(s, "[[") || !strings.Contains(s, filepath.Join(sdk, l.sdk)) || !strings.Contains(s, `"`+name+`"`) {
			t.Errorf("%s: the project does not name the SDK and the function, or has template text left:\n%s", l.name, s)
		}
	}
}
