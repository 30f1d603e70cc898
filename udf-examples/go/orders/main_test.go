package main

import (
	"math"
	"math/big"
	"strconv"
	"testing"
)

func TestAppendInt(t *testing.T) {
	check := func(n int64) {
		t.Helper()
		want := strconv.AppendInt([]byte("x"), n, 10)
		for _, b := range [][]byte{[]byte("x"), append(make([]byte, 0, 64), 'x')} {
			if got := appendInt(b, n); string(got) != string(want) {
				t.Fatalf("appendInt(%d) = %q, want %q", n, got, want)
			}
		}
	}
	for n := int64(-100000); n <= 100000; n++ {
		check(n)
	}
	for p := int64(1); p <= 1e18; p *= 10 {
		for _, n := range []int64{p - 1, p, p + 1, 2*p - 1, 5 * p, 9*p + p - 1} {
			check(n)
			check(-n)
		}
	}
	for n := int64(1); n > 0 && n < math.MaxInt64/3; n = n*3 + 7 {
		check(n)
		check(-n)
	}
	check(math.MaxInt64)
	check(math.MinInt64)
}

func TestMul64(t *testing.T) {
	vals := []int64{0, 1, -1, 2, -2, 3, 100, -100, 1 << 31, -(1 << 31), 1 << 32, 3037000499, 3037000500, -3037000500,
		math.MaxInt64, math.MinInt64, math.MaxInt64 / 2, math.MinInt64 / 2, math.MaxInt64/100 + 1, math.MinInt64 / 100}
	for _, a := range vals {
		for _, b := range vals {
			p := new(big.Int).Mul(big.NewInt(a), big.NewInt(b))
			m, ok := mul64(a, b)
			if wantOK := p.IsInt64(); ok != wantOK || ok && m != p.Int64() {
				t.Errorf("mul64(%d, %d) = %d, %v; want %s", a, b, m, ok, p)
			}
		}
	}
}
