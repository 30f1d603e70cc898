package main

import (
	"math"
	"testing"
)

func TestAppendCount(t *testing.T) {
	for _, c := range []struct{ payload, want string }{
		{`{"key":"a","seq":1}`, `{"key":"a","seq":1,"count":7,"attempt":2}`},
		{`{"seq":-3e2, "key" : {"x": [1, 2]}}`, `{"key":{"x": [1, 2]},"seq":-3e2,"count":7,"attempt":2}`},
		{`{"key":null,"seq":"1"}`, `{"key":null,"seq":null,"count":7,"attempt":2}`},
		{`{}`, `{"key":null,"seq":null,"count":7,"attempt":2}`},
		{`not json`, `{"key":null,"seq":null,"count":7,"attempt":2}`},
	} {
		if got := string(appendCount(nil, []byte(c.payload), 7, 2)); got != c.want {
			t.Errorf("%s: got %s, want %s", c.payload, got, c.want)
		}
	}
}

func TestSum(t *testing.T) {
	got, err := sum([]byte(`{"amount": 5}`), []byte(`{"amount":-7,"x":1}`))
	if err != nil || string(got) != `{"amount":-2}` {
		t.Errorf("got %s, %v", got, err)
	}
	for _, c := range [][2]string{
		{`{"amount":1}`, `{"amount":"2"}`},
		{`{}`, `{"amount":2}`},
		{`{"amount":9223372036854775807}`, `{"amount":1}`},
	} {
		if _, err := sum([]byte(c[0]), []byte(c[1])); err == nil {
			t.Errorf("%s + %s: no error", c[0], c[1])
		}
	}
}

func TestAdd64(t *testing.T) {
	for _, c := range []struct {
		a, b int64
		ok   bool
	}{{1, 2, true}, {math.MaxInt64, 1, false}, {math.MinInt64, -1, false}, {math.MinInt64, math.MaxInt64, true}, {-5, -6, true}} {
		if s, ok := add64(c.a, c.b); ok != c.ok || ok && s != c.a+c.b {
			t.Errorf("add64(%d, %d) = %d, %v", c.a, c.b, s, ok)
		}
	}
}
