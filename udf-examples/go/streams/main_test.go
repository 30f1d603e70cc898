package main

import (
	"encoding/json"
	"math"
	"testing"

	weir "github.com/weir-streams/weir/sdk/go"
)

func TestParseRule(t *testing.T) {
	for _, c := range []struct {
		payload string
		id      string
		op      ruleOp
	}{
		{`{"rule":"r1","max_amount":100}`, "r1", rulePut},
		{`{"max_amount":1.5e3, "rule" : "big"}`, "big", rulePut},
		{`{"rule":"r\u0031","max_amount":-1}`, "r1", rulePut},
		{`{"rule":"r1","delete":true}`, "r1", ruleDelete},
		{`{"rule":"r1","delete":true,"max_amount":3}`, "r1", ruleDelete},
		{`{"rule":"r1","delete":false,"max_amount":3}`, "r1", rulePut},
		{`{"rule":"r1","delete":false}`, "", ruleIgnore},
		{`{"rule":"r1","max_amount":"100"}`, "", ruleIgnore},
		{`{"rule":"","max_amount":1}`, "", ruleIgnore},
		{`{"rule":"","delete":true}`, "", ruleIgnore},
		{`{"rule":7,"max_amount":1}`, "", ruleIgnore},
		{`{"max_amount":1}`, "", ruleIgnore},
		{`["rule","r1"]`, "", ruleIgnore},
		{`not json`, "", ruleIgnore},
		{``, "", ruleIgnore},
	} {
		id, op := parseRule([]byte(c.payload))
		if string(id) != c.id || op != c.op {
			t.Errorf("%s: got %q %d, want %q %d", c.payload, id, op, c.id, c.op)
		}
	}
}

func TestAppendAlert(t *testing.T) {
	for _, c := range []struct{ txn, rule, amount, want string }{
		{`"t1"`, "r1", `250`, `{"txn":"t1","rule":"r1","amount":250}`},
		{`{"n":1}`, "big", `1.5e3`, `{"txn":{"n":1},"rule":"big","amount":1.5e3}`},
		{`null`, "a\"b\\c\n\x01\t\xff", `-0`, `{"txn":null,"rule":"a\"b\\c\n\u0001\t` + "\xff" + `","amount":-0}`},
	} {
		got := appendAlert(nil, []byte(c.txn), []byte(c.rule), []byte(c.amount))
		if string(got) != c.want {
			t.Errorf("got %s, want %s", got, c.want)
		}
	}
	var v map[string]any
	if err := json.Unmarshal(appendAlert(nil, []byte("1"), []byte("q\"\x1f"), []byte("2")), &v); err != nil || v["rule"] != "q\"\x1f" {
		t.Errorf("not JSON: %v %v", v, err)
	}
}

func TestMatchRow(t *testing.T) {
	for _, c := range []struct{ row, want string }{
		{`{"left":{"order_id":"o1","amount":10},"right":{"order_id":"o1","amount":10}}`,
			`{"order":"o1","ordered":10,"paid":10,"underpaid":false}`},
		{`{"left":{"order_id":"o1","amount":10.5},"right":{"order_id":"o1","amount":10}}`,
			`{"order":"o1","ordered":10.5,"paid":10,"underpaid":true}`},
		{`{"left":{"order_id":7,"amount":1e1},"right":{"amount":20}}`,
			`{"order":7,"ordered":1e1,"paid":20,"underpaid":false}`},
		{`{"left":{"order_id":"o2","amount":5},"right":null}`,
			`{"order":"o2","ordered":5,"paid":null,"underpaid":true}`},
		{`{"left":null,"right":{"order_id":"o3","amount":4,"method":"card"}}`,
			`{"order":"o3","ordered":null,"paid":4,"underpaid":false}`},
		{`{ "right" : {"order_id" : {"a":[1, 2]}, "amount" : 4} }`,
			`{"order":{"a":[1, 2]},"ordered":null,"paid":4,"underpaid":false}`},
		{`{"left":{"order_id":"o4"},"right":{"order_id":"o4","amount":"3"}}`,
			`{"order":"o4","ordered":null,"paid":"3","underpaid":false}`},
		{`{"left":null,"right":null}`, `{"order":null,"ordered":null,"paid":null,"underpaid":false}`},
		{`{}`, `{"order":null,"ordered":null,"paid":null,"underpaid":false}`},
	} {
		got, ok := matchRow(nil, []byte(c.row))
		if !ok || string(got) != c.want {
			t.Errorf("%s:\n got %s (%v)\nwant %s", c.row, got, ok, c.want)
		}
	}
	for _, row := range []string{`[1]`, `null`, ``, `"x"`} {
		if _, ok := matchRow(nil, []byte(row)); ok {
			t.Errorf("%q: accepted", row)
		}
	}
}

func TestEager(t *testing.T) {
	w := weir.Window{Start: 0, End: 100}
	global := weir.Window{Start: math.MinInt64, End: math.MaxInt64}
	for _, c := range []struct {
		ev     weir.TriggerEvent
		action weir.TriggerAction
		timer  int64
	}{
		{weir.TriggerEvent{Kind: weir.ElementsAdded, Window: w, Time: 5, Count: 4}, weir.Continue, 99},
		{weir.TriggerEvent{Kind: weir.ElementsAdded, Window: w, Time: 5, Count: 5}, weir.Fire, 99},
		{weir.TriggerEvent{Kind: weir.ElementsAdded, Window: global, Count: 9}, weir.Fire, math.MaxInt64 - 1},
		{weir.TriggerEvent{Kind: weir.EventTimeTimer, Window: w, Time: 98, Count: 5}, weir.Continue, weir.NoTimer},
		{weir.TriggerEvent{Kind: weir.EventTimeTimer, Window: w, Time: 99, Count: 5}, weir.FireAndPurge, weir.NoTimer},
		{weir.TriggerEvent{Kind: weir.ProcessingTimeTimer, Window: w, Time: 500, Count: 5}, weir.Continue, weir.NoTimer},
	} {
		var res weir.TriggerResult
		if err := eager(&c.ev, &res); err != nil || res.Action != c.action || res.EventTimer() != c.timer || res.ProcessingTimer() != weir.NoTimer {
			t.Errorf("%+v: got %+v (event timer %d), %v; want %d, %d", c.ev, res, res.EventTimer(), err, c.action, c.timer)
		}
	}
}

func TestNegativeAmount(t *testing.T) {
	for p, want := range map[string]bool{
		`{"amount":-1}`:       true,
		`{"amount":-0.5e-3}`:  true,
		`{"amount":0}`:        false,
		`{"amount":-0}`:       false,
		`{"amount":3}`:        false,
		`{"amount":"-1"}`:     false,
		`{"other":-1}`:        false,
		`{"x":{"amount":-1}}`: false,
		`not json`:            false,
	} {
		if got := negativeAmount([]byte(p)); got != want {
			t.Errorf("%s: got %v", p, got)
		}
	}
}
