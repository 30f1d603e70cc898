package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeWeir is a small hand-written stand-in for the REST API, with canned replies
// and a record of what arrived.
type fakeWeir struct {
	mu       sync.Mutex
	uploads  map[string][]byte // module name -> body received
	specs    []string          // job specs received, in order
	specType string            // Content-Type of the last spec
}

func newFake(t *testing.T) (*fakeWeir, string) {
	f := &fakeWeir{uploads: map[string][]byte{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/modules", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			replyJSON(w, 400, `{"error":"reading body"}`)
			return
		}
		name := r.URL.Query().Get("name")
		f.mu.Lock()
		f.uploads[name] = body
		f.mu.Unlock()
		sum := sha256.Sum256(body)
		replyJSON(w, 201, fmt.Sprintf(`{"name":%q,"digest":"sha256:%s","size":%d,"uploaded_at":"2025-03-01T12:00:00Z","abi_version":1,`+
			`"functions":[{"name":"normalize","kind":"map","index":0},{"name":"is_bot","kind":"filter","index":1}]}`,
			name, hex.EncodeToString(sum[:]), len(body)))
	})
	mux.HandleFunc("GET /api/v1/modules", func(w http.ResponseWriter, r *http.Request) {
		replyJSON(w, 200, `{"modules":[`+
			`{"name":"sessions","digest":"sha256:00112233445566778899aabbccddeeff","size":2097152,"uploaded_at":"2025-03-02T08:30:00Z","abi_version":1,"functions":[{"name":"f","kind":"map","index":0}]},`+
			`{"name":"clicks","digest":"sha256:ffeeddccbbaa99887766554433221100","size":512,"uploaded_at":"2025-03-01T12:00:00Z","abi_version":1,"functions":[]}]}`)
	})
	mux.HandleFunc("GET /api/v1/modules/{name}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("name") != "clicks" {
			replyError(w, 404, fmt.Sprintf("module %q not found", r.PathValue("name")))
			return
		}
		replyJSON(w, 200, `{"name":"clicks","digest":"sha256:ffee","size":512,"uploaded_at":"2025-03-01T12:00:00Z","abi_version":1,`+
			`"functions":[{"name":"normalize","kind":"map","index":0}],`+
			`"history":[{"digest":"sha256:ffee","size":512,"uploaded_at":"2025-03-01T12:00:00Z"},{"digest":"sha256:0011","size":400,"uploaded_at":"2025-02-01T12:00:00Z"}]}`)
	})
	mux.HandleFunc("DELETE /api/v1/modules/{name}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("name") == "clicks" {
			replyJSON(w, 409, `{"error":"module \"clicks\" is used by running job j-1"}`)
			return
		}
		w.WriteHeader(204)
	})
	mux.HandleFunc("POST /api/v1/jobs", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.specs = append(f.specs, string(body))
		f.specType = r.Header.Get("Content-Type")
		f.mu.Unlock()
		switch {
		case bytes.Contains(body, []byte("fnction")):
			replyJSON(w, 400, `{"error":"unknown key \"fnction\"","field":"pipeline[2].map.function","line":12,"column":7}`)
		case r.URL.Query().Get("dry_run") == "true":
			replyJSON(w, 200, `{"plan":{"vertices":[`+
				`{"id":"v1","name":"clicks -> parse","parallelism":2,"steps":[{"id":"clicks","kind":"source"},{"id":"parse","kind":"map"}]},`+
				`{"id":"v2","name":"counts","parallelism":4,"steps":[{"id":"counts","kind":"window"}]}],`+
				`"edges":[{"from":"v1","to":"v2","partitioning":"hash"}]}}`)
		default:
			replyJSON(w, 201, `{"id":"j-1"}`)
		}
	})
	mux.HandleFunc("GET /api/v1/jobs", func(w http.ResponseWriter, r *http.Request) {
		replyJSON(w, 200, `{"jobs":[`+
			`{"id":"j-1","name":"clicks-per-user","status":"RUNNING","created_at":"2025-03-01T12:00:00Z"},`+
			`{"id":"j-2","name":"sessions","status":"FAILED","reason":"restart attempts exhausted\nsecond line","created_at":"2025-03-02T12:00:00Z"}]}`)
	})
	mux.HandleFunc("GET /api/v1/jobs/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != "j-1" {
			replyError(w, 404, fmt.Sprintf("job %q not found", r.PathValue("id")))
			return
		}
		replyJSON(w, 200, `{"id":"j-1","name":"clicks-per-user","status":"RUNNING","created_at":"2025-03-01T12:00:00Z","updated_at":"2025-03-01T12:00:05Z",`+
			`"spec":"name: clicks-per-user\n","modules":{"clicks":"sha256:ffee","enrich":"sha256:0011"},`+
			`"plan":{"vertices":[{"id":"v1","name":"clicks -> parse","parallelism":2,"steps":[{"id":"clicks","kind":"source"},{"id":"parse","kind":"map"}],`+
			`"subtasks":[{"index":0,"worker":"w-1","status":"RUNNING","records_in":100,"records_out":98},{"index":1,"worker":"w-2","status":"RUNNING","records_in":7,"records_out":7}]}],"edges":[]}}`)
	})
	mux.HandleFunc("DELETE /api/v1/jobs/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != "j-1" {
			replyError(w, 404, fmt.Sprintf("job %q not found", r.PathValue("id")))
			return
		}
		replyJSON(w, 202, `{"id":"j-1","status":"RUNNING"}`)
	})
	mux.HandleFunc("GET /api/v1/jobs/{id}/exceptions", func(w http.ResponseWriter, r *http.Request) {
		replyJSON(w, 200, `{"exceptions":[{"time":"2025-03-01T12:01:00Z","task":"parse (1/2)","kind":"wasm_trap","message":"unreachable\nmore","stack":"normalize"}]}`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func replyError(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(map[string]string{"error": msg})
	replyJSON(w, status, string(b))
}

func replyJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// runWeir runs the weir command line the way main does, against server.
func runWeir(t *testing.T, server, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	root := &cobra.Command{Use: "weir", SilenceErrors: true, SilenceUsage: true}
	root.PersistentFlags().StringVar(&server, "server", server, "Weir REST API base URL")
	root.AddCommand(newModuleCmd(&server), newJobCmd(&server), newSavepointCmd(&server), newUDFCmd())
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	err := root.Execute()
	if err != nil {
		fmt.Fprintln(&errOut, "weir:", err) // as main does
	}
	return out.String(), errOut.String(), exitCode(err)
}

func TestModuleUpload(t *testing.T) {
	f, url := newFake(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "clicks.wasm")
	content := bytes.Repeat([]byte("\x00asm\x01\x00\x00\x00"), 100_000)
	require.NoError(t, os.WriteFile(path, content, 0o644))
	sum := sha256.Sum256(content)

	stdout, stderr, code := runWeir(t, url, "", "module", "upload", path)
	assert.Equal(t, 0, code)
	assert.Empty(t, stderr)
	assert.Equal(t, "Uploaded module clicks: sha256:"+hex.EncodeToString(sum[:])+", 781.2 KiB\n"+
		"\n"+
		"FUNCTION   KIND    INDEX\n"+
		"normalize  map     0\n"+
		"is_bot     filter  1\n", stdout)
	f.mu.Lock()
	assert.Equal(t, content, f.uploads["clicks"], "the module reaches the server intact")
	f.mu.Unlock()

	stdout, stderr, code = runWeir(t, url, "", "module", "upload", path, "--name", "renamed", "-o", "json")
	assert.Equal(t, 0, code)
	assert.Empty(t, stderr)
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &m))
	assert.Equal(t, "renamed", m["name"])
	assert.Contains(t, stdout, "\n  \"name\": \"renamed\"", "json output is indented")

	stdout, stderr, code = runWeir(t, url, "wasm from a pipe", "module", "upload", "-", "--name", "piped")
	assert.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "Uploaded module piped:")
	f.mu.Lock()
	assert.Equal(t, "wasm from a pipe", string(f.uploads["piped"]))
	f.mu.Unlock()
}

func TestModuleListGetRm(t *testing.T) {
	_, url := newFake(t)

	stdout, stderr, code := runWeir(t, url, "", "module", "list")
	assert.Equal(t, 0, code)
	assert.Empty(t, stderr)
	assert.Equal(t, ""+
		"NAME      DIGEST               SIZE     FUNCTIONS  UPLOADED\n"+
		"clicks    sha256:ffeeddccbbaa  512 B    0          2025-03-01T12:00:00Z\n"+
		"sessions  sha256:001122334455  2.0 MiB  1          2025-03-02T08:30:00Z\n", stdout)

	stdout, _, code = runWeir(t, url, "", "module", "list", "-o", "json")
	assert.Equal(t, 0, code)
	assert.True(t, strings.HasPrefix(stdout, "{\n  \"modules\": [\n"), stdout)

	stdout, stderr, code = runWeir(t, url, "", "module", "get", "clicks")
	assert.Equal(t, 0, code)
	assert.Empty(t, stderr)
	assert.Equal(t, ""+
		"Name:         clicks\n"+
		"Digest:       sha256:ffee\n"+
		"Size:         512 B\n"+
		"Uploaded:     2025-03-01T12:00:00Z\n"+
		"ABI version:  1\n"+
		"\n"+
		"FUNCTION   KIND  INDEX\n"+
		"normalize  map   0\n"+
		"\n"+
		"History:\n"+
		"DIGEST       SIZE   UPLOADED\n"+
		"sha256:ffee  512 B  2025-03-01T12:00:00Z\n"+
		"sha256:0011  400 B  2025-02-01T12:00:00Z\n", stdout)

	stdout, stderr, code = runWeir(t, url, "", "module", "get", "nope")
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Equal(t, "weir: module \"nope\" not found\n", stderr)

	stdout, stderr, code = runWeir(t, url, "", "module", "rm", "old")
	assert.Equal(t, 0, code)
	assert.Empty(t, stderr)
	assert.Equal(t, "Deleted module old\n", stdout)

	stdout, stderr, code = runWeir(t, url, "", "module", "rm", "old", "-o", "json")
	assert.Equal(t, 0, code)
	assert.Empty(t, stderr)
	assert.Empty(t, stdout, "a 204 has no JSON to show")

	stdout, stderr, code = runWeir(t, url, "", "module", "rm", "clicks")
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Equal(t, "weir: module \"clicks\" is used by running job j-1\n", stderr)
}

func TestJobSubmit(t *testing.T) {
	f, url := newFake(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "clicks.yaml")
	require.NoError(t, os.WriteFile(path, []byte("name: clicks-per-user\n"), 0o644))

	stdout, stderr, code := runWeir(t, url, "", "job", "submit", path)
	assert.Equal(t, 0, code)
	assert.Empty(t, stderr)
	assert.Equal(t, "Submitted job j-1\n", stdout)

	stdout, stderr, code = runWeir(t, url, "", "job", "submit", "--dry-run", path)
	assert.Equal(t, 0, code)
	assert.Empty(t, stderr)
	assert.Equal(t, ""+
		"Dry run: the spec is valid; nothing was submitted.\n"+
		"\n"+
		"VERTEX  NAME             PARALLELISM  STEPS\n"+
		"v1      clicks -> parse  2            clicks (source) -> parse (map)\n"+
		"v2      counts           4            counts (window)\n"+
		"\n"+
		"FROM  TO  PARTITIONING\n"+
		"v1    v2  hash\n", stdout)

	stdout, _, code = runWeir(t, url, "", "job", "submit", "--dry-run", path, "-o", "json")
	assert.Equal(t, 0, code)
	var plan struct{ Plan struct{ Vertices []any } }
	require.NoError(t, json.Unmarshal([]byte(stdout), &plan))
	assert.Len(t, plan.Plan.Vertices, 2)

	stdout, stderr, code = runWeir(t, url, `{"name": "from-stdin"}`, "job", "submit", "-")
	assert.Equal(t, 0, code, stderr)
	assert.Equal(t, "Submitted job j-1\n", stdout)
	f.mu.Lock()
	assert.Equal(t, `{"name": "from-stdin"}`, f.specs[len(f.specs)-1])
	assert.Equal(t, "application/json", f.specType)
	f.mu.Unlock()

	stdout, stderr, code = runWeir(t, url, "pipeline:\n  - map: { fnction: f }\n", "job", "submit", "-")
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Equal(t, "weir: pipeline[2].map.function: unknown key \"fnction\" (line 12, column 7)\n", stderr)

	stdout, stderr, code = runWeir(t, url, "", "job", "submit", filepath.Join(dir, "missing.yaml"))
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.True(t, strings.HasPrefix(stderr, "weir: reading job spec: open "), stderr)
}

func TestJobListGetCancel(t *testing.T) {
	_, url := newFake(t)

	stdout, stderr, code := runWeir(t, url, "", "job", "list")
	assert.Equal(t, 0, code)
	assert.Empty(t, stderr)
	assert.Equal(t, ""+
		"ID   NAME             STATUS   CREATED               REASON\n"+
		"j-2  sessions         FAILED   2025-03-02T12:00:00Z  restart attempts exhausted ...\n"+
		"j-1  clicks-per-user  RUNNING  2025-03-01T12:00:00Z  \n", stdout)

	stdout, stderr, code = runWeir(t, url, "", "job", "get", "j-1")
	assert.Equal(t, 0, code)
	assert.Empty(t, stderr)
	assert.Equal(t, ""+
		"ID:       j-1\n"+
		"Name:     clicks-per-user\n"+
		"Status:   RUNNING\n"+
		"Created:  2025-03-01T12:00:00Z\n"+
		"Updated:  2025-03-01T12:00:05Z\n"+
		"Modules:  clicks@sha256:ffee\n"+
		"          enrich@sha256:0011\n"+
		"\n"+
		"VERTEX  NAME             PARALLELISM  STEPS\n"+
		"v1      clicks -> parse  2            clicks (source) -> parse (map)\n"+
		"\n"+
		"VERTEX  SUBTASK  WORKER  STATUS   RECORDS IN  RECORDS OUT\n"+
		"v1      0        w-1     RUNNING  100         98\n"+
		"v1      1        w-2     RUNNING  7           7\n", stdout)

	stdout, _, code = runWeir(t, url, "", "job", "get", "j-1", "-o", "json")
	assert.Equal(t, 0, code)
	var job map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &job))
	assert.Equal(t, "name: clicks-per-user\n", job["spec"])

	stdout, stderr, code = runWeir(t, url, "", "job", "get", "j-9")
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Equal(t, "weir: job \"j-9\" not found\n", stderr)

	stdout, stderr, code = runWeir(t, url, "", "job", "cancel", "j-1")
	assert.Equal(t, 0, code)
	assert.Empty(t, stderr)
	assert.Equal(t, "Cancel requested for job j-1 (status RUNNING)\n", stdout)

	stdout, _, code = runWeir(t, url, "", "job", "cancel", "j-1", "-o", "json")
	assert.Equal(t, 0, code)
	assert.Equal(t, "{\n  \"id\": \"j-1\",\n  \"status\": \"RUNNING\"\n}\n", stdout)

	stdout, stderr, code = runWeir(t, url, "", "job", "exceptions", "j-1")
	assert.Equal(t, 0, code)
	assert.Empty(t, stderr)
	assert.Equal(t, ""+
		"TIME                  TASK         KIND       MESSAGE\n"+
		"2025-03-01T12:01:00Z  parse (1/2)  wasm_trap  unreachable ...\n", stdout)
}

func TestConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	url := "http://" + l.Addr().String()
	require.NoError(t, l.Close())

	for _, args := range [][]string{{"job", "list"}, {"module", "list"}, {"job", "cancel", "j-1"}} {
		stdout, stderr, code := runWeir(t, url, "", args...)
		assert.Equal(t, 1, code, args)
		assert.Empty(t, stdout, args)
		assert.True(t, strings.HasPrefix(stderr, "weir: cannot reach Weir at "+url+": "), stderr)
		assert.Contains(t, stderr, "connection refused")
		assert.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %q", stderr)
	}
}

func TestUsageErrors(t *testing.T) {
	_, url := newFake(t)
	for _, tc := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"module", "upload"}, "weir: missing argument FILE (see 'weir module upload --help')\n"},
		{[]string{"module", "upload", "-"}, "weir: --name is required when the module is read from standard input (see 'weir module upload --help')\n"},
		{[]string{"job", "get"}, "weir: missing argument ID (see 'weir job get --help')\n"},
		{[]string{"job", "get", "a", "b"}, "weir: unexpected argument \"b\" (see 'weir job get --help')\n"},
		{[]string{"job", "list", "extra"}, "weir: unexpected argument \"extra\" (see 'weir job list --help')\n"},
		{[]string{"job", "list", "-o", "yaml"}, "weir: invalid argument \"yaml\" for \"-o, --output\" flag: must be table or json (see 'weir job list --help')\n"},
		{[]string{"job", "submit", "--bogus", "x"}, "weir: unknown flag: --bogus (see 'weir job submit --help')\n"},
		{[]string{"job", "frobnicate"}, "weir: unknown command \"frobnicate\" for \"weir job\" (see 'weir job --help')\n"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			stdout, stderr, code := runWeir(t, url, "", tc.args...)
			assert.Equal(t, 2, code)
			assert.Empty(t, stdout)
			assert.Equal(t, tc.stderr, stderr)
		})
	}
}

func TestGroupWithoutSubcommandPrintsHelp(t *testing.T) {
	stdout, stderr, code := runWeir(t, "http://127.0.0.1:1", "", "module")
	assert.Equal(t, 0, code)
	assert.Empty(t, stderr)
	assert.Contains(t, stdout, "upload")
	assert.Contains(t, stdout, "--output")
}

func TestExitCode(t *testing.T) {
	assert.Equal(t, 0, exitCode(nil))
	assert.Equal(t, 1, exitCode(errors.New("cannot reach Weir at http://x: refused")))
	assert.Equal(t, 2, exitCode(usageError{errors.New("missing argument ID")}))
	assert.Equal(t, 2, exitCode(fmt.Errorf("wrapped: %w", usageError{errors.New("x")})))
	// What cobra itself raises for the root command, which has no flag error function of ours.
	assert.Equal(t, 2, exitCode(errors.New(`unknown command "frob" for "weir"`)))
	assert.Equal(t, 2, exitCode(errors.New("unknown flag: --nope")))
}
