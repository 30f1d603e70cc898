package keyby

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/weir-streams/weir/internal/keygroup"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata/keygroups.golden")

// TestKeyGroupsGolden pins, end to end, where records go: payload, key bytes, key
// group among 128 and subtask among 3 and 128. Savepoints depend on every column,
// so no row of the golden file may ever change: rewrite it (-rewrite) only to add
// rows.
func TestKeyGroupsGolden(t *testing.T) {
	payloads := []string{
		`{"user":"alice"}`, `{"user":"al\u0069ce"}`, `{"user":"bob"}`, `{"user":""}`,
		`{"user":"été"}`, `{"user":"\u00e9t\u00e9"}`, `{"user":"😀"}`, `{"user":"a\"b"}`,
		`{"user":1}`, `{"user":1.0}`, `{"user":1e0}`, `{"user":-0}`, `{"user":0}`,
		`{"user":12345678901234567891}`, `{"user":1.5e-7}`, `{"user":1e21}`,
		`{"user":true}`, `{"user":false}`, `{"user":null}`, `{}`, `[1]`, `not json`,
		`{"user":{"id":1}}`, `{"id":7,"user":"c-42","amount":1999}`,
	}
	var buf bytes.Buffer
	fmt.Fprintln(&buf, "# payload | key | key group of 128 | subtask of 3 | subtask of 128")
	for _, p := range payloads {
		k, _ := appendKey(nil, []byte(p), []string{"user"})
		kg := keygroup.Of(k, 128)
		fmt.Fprintf(&buf, "%s | %s | %d | %d | %d\n", p, k, kg, keygroup.Subtask(kg, 128, 3), keygroup.Subtask(kg, 128, 128))
	}
	const golden = "testdata/keygroups.golden"
	if *rewrite {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -rewrite)", err)
	}
	if !bytes.Equal(want, buf.Bytes()) {
		t.Fatalf("key groups changed; savepoints depend on them:\n%s", buf.Bytes())
	}
}
