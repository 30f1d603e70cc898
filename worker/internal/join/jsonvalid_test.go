package join

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

var validSeeds = []string{
	``, ` `, `0`, `-0`, `01`, `-`, `1.`, `1.5`, `1e`, `1e+`, `1E-7`, `-12.5e3`, `true`, `tru`, `truex`, `null`, `false`,
	`""`, `"\"`, `"\u12ag"`, `"\u12aF"`, `"a\qb"`, "\"\x01\"", "\"\xff\"", `"\/\b\f\n\r\t"`,
	`{}`, `{ }`, `{"a":1}`, `{"a":1,}`, `{"a" : [1, 2, {"b": null}] }`, `{1:2}`, `{"a"}`, `[`, `[]`, `[1,]`, `[,1]`, ` [1 , 2] `,
	`[1] x`, "\t\n\r[true]\r\n", `{"id":17,"price":3}`, `p17`, `right, not JSON`,
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
}

// TestValidJSON compares validJSON with encoding/json.Valid on hand-picked
// inputs and random mutations of them.
func TestValidJSON(t *testing.T) {
	check := func(s string) {
		if got, want := validJSON([]byte(s)), json.Valid([]byte(s)); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid %v", s, got, want)
		}
	}
	for _, s := range validSeeds {
		check(s)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := `{}[],:"\ 0123456789-+.eEtrufalsn` + "\x00\t\xff"
	for range 20000 {
		s := []byte(validSeeds[rng.IntN(len(validSeeds)-2)])
		for range 1 + rng.IntN(3) {
			c := alphabet[rng.IntN(len(alphabet))]
			switch p := rng.IntN(len(s) + 1); rng.IntN(3) {
			case 0:
				s = append(s[:p], append([]byte{c}, s[p:]...)...)
			case 1:
				if p < len(s) {
					s = append(s[:p], s[p+1:]...)
				}
			default:
				if p < len(s) {
					s[p] = c
				}
			}
		}
		check(string(s))
	}
}

func FuzzValidJSON(f *testing.F) {
	for _, s := range validSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid %v", b, got, want)
		}
	})
}
