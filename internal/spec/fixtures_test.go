package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden files of testdata/*.good.* from the parser's output")

// TestGood parses every testdata/*.good.yaml and *.good.json and compares the job,
// as JSON, with its *.golden.json.
func TestGood(t *testing.T) {
	files, err := filepath.Glob("testdata/*.good.*")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			job, err := Parse(data)
			require.NoError(t, err)
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			require.NoError(t, enc.Encode(job))
			got := buf.Bytes()

			golden := strings.TrimSuffix(strings.TrimSuffix(file, ".yaml"), ".json")
			golden = strings.TrimSuffix(golden, ".good") + ".golden.json"
			if *rewrite {
				require.NoError(t, os.WriteFile(golden, got, 0o644))
				return
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "no golden file; run go test ./internal/spec -rewrite")
			require.Equal(t, string(want), string(got), "run go test ./internal/spec -rewrite if the change is intended")

			// What Parse returns is valid as it stands and survives storage.
			require.NoError(t, job.Validate())
			var back Job
			require.NoError(t, json.Unmarshal(got, &back))
			require.NoError(t, back.Validate())
			compact, err := json.Marshal(job)
			require.NoError(t, err)
			again, err := json.Marshal(&back)
			require.NoError(t, err)
			require.JSONEq(t, string(compact), string(again))
			require.Equal(t, string(compact), string(again))
		})
	}
}

// TestBad parses every testdata/*.bad.yaml and compares the error with the file's
// first line, "# want: <the error's text>".
func TestBad(t *testing.T) {
	files, err := filepath.Glob("testdata/*.bad.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			firstLine, _, _ := bytes.Cut(data, []byte("\n"))
			want, ok := strings.CutPrefix(string(firstLine), "# want: ")
			require.True(t, ok, "the first line must be # want: <expected error>")

			job, err := Parse(data)
			require.Nil(t, job)
			require.Error(t, err)
			var e *Error
			require.True(t, errors.As(err, &e), "%T is not a *spec.Error", err)
			require.Equal(t, want, err.Error())
			wantUnsupported := strings.HasPrefix(filepath.Base(file), "unsupported-")
			require.Equal(t, wantUnsupported, errors.Is(err, errors.ErrUnsupported), "Unsupported")
		})
	}
}
