package web

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func get(t *testing.T, h http.Handler, p string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p, nil))
	res := rec.Result()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, string(b)
}

func TestHandlerServesTheUI(t *testing.T) {
	h := Handler()
	res, body := get(t, h, "/")
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, body, `<script type="module" src="js/app.js">`)
	for _, p := range []string{"/js/app.js", "/style.css", "/favicon.svg"} {
		res, _ := get(t, h, p)
		require.Equal(t, http.StatusOK, res.StatusCode, p)
	}
	res, _ = get(t, h, "/js/app.js")
	require.Contains(t, res.Header.Get("Content-Type"), "javascript", "browsers refuse a module script of another type")
}

var importRE = regexp.MustCompile(`(?m)^\s*import\s[^;]*?from\s+"([^"]+)"`)

// Every ES module import points at an embedded file, so a typo cannot reach a
// browser; and only api.js talks to the server, through /api/v1.
func TestModulesResolveAndOnlyTheAPIFetches(t *testing.T) {
	sub, err := fs.Sub(files, "static")
	require.NoError(t, err)
	n := 0
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".js") {
			return err
		}
		b, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		src := string(b)
		for _, m := range importRE.FindAllStringSubmatch(src, -1) {
			target := path.Join(path.Dir(p), m[1])
			_, err := fs.Stat(sub, target)
			require.NoError(t, err, "%s imports %s", p, m[1])
			n++
		}
		if p != "js/api.js" {
			require.NotContains(t, src, "fetch(", "%s: only js/api.js talks to the server", p)
		}
		return nil
	})
	require.NoError(t, err)
	require.Greater(t, n, 10)
	api, err := fs.ReadFile(sub, "js/api.js")
	require.NoError(t, err)
	require.Contains(t, string(api), `fetch("/api/v1" + path`)
	require.Equal(t, 1, strings.Count(string(api), "fetch("))
}
