// Command streams is Weir's example of two-input functions, broadcast state,
// triggers and evictors in Go (sdk/ABI.md §4.7–4.10). It implements the
// `streams` example every SDK builds alike, with these function indexes:
//
//  0. fraud, a co_process function: its second input, broadcast, carries rules
//     {"rule":"<id>","max_amount":<number>} (kept in the broadcast state
//     "rules", under the rule's id) and {"rule":"<id>","delete":true}; its
//     first input, transactions {"id":..,"account":..,"amount":<number>}. A
//     transaction above a rule's max_amount gives
//     {"txn":<id>,"rule":"<rule id>","amount":<amount>} for every such rule, in
//     byte order of the rule ids; one no rule matched goes unchanged to the side
//     output "clean".
//  1. match, a map over the rows of an interval join of orders and payments,
//     {"left":<order or null>,"right":<payment or null>}, giving
//     {"order":<order_id>,"ordered":<amount>,"paid":<amount or null>,"underpaid":<bool>}.
//  2. eager, a trigger: fires a window once it holds five elements, and fires
//     and purges it at its end.
//  3. drop_negative, an evictor: removes the elements whose "amount" is a
//     negative number before the window's function runs.
//
// Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -ldflags=-s -o streams.wasm .
package main

import (
	"errors"

	weir "github.com/weir-streams/weir/sdk/go"
)

func init() {
	weir.CoProcess("fraud", checkTxn, updateRule, weir.State(rules), weir.SideOutputs("clean")) // index 0
	weir.Map("match", match)                                                                    // index 1
	weir.Trigger("eager", eager)                                                                // index 2
	weir.Evictor("drop_negative", dropNegative)                                                 // index 3
}

// main is never called: the module is a reactor.
func main() {}

// rules holds fraud's rules: the rule's payload under the rule's id (unescaped).
var rules = weir.NewBroadcastState("rules")

// A rule update, what updateRule does with a record of the broadcast input.
type ruleOp int

const (
	ruleIgnore ruleOp = iota
	rulePut
	ruleDelete
)

// parseRule reads a record of the rules stream: its id and what to do. A
// record that is not such an object is ignored, and so is a rule with an empty
// id: the ABI could not delete it on its own (an empty sub-key deletes the
// whole map).
func parseRule(p []byte) (id []byte, op ruleOp) {
	if !isObject(p) {
		return nil, ruleIgnore
	}
	id, ok := weir.JSONString(p, "rule")
	if !ok || len(id) == 0 {
		return nil, ruleIgnore
	}
	if _, kind, _ := weir.JSONGet(p, "delete"); kind == weir.KindTrue {
		return id, ruleDelete
	}
	if _, kind, _ := weir.JSONGet(p, "max_amount"); kind == weir.KindNumber {
		return id, rulePut
	}
	return nil, ruleIgnore
}

// updateRule handles the second (broadcast) input: it stores or deletes a rule
// and emits nothing.
func updateRule(in *weir.Record, ctx *weir.Context) error {
	p := in.Payload()
	switch id, op := parseRule(p); op {
	case rulePut:
		return rules.Put(ctx, id, p)
	case ruleDelete:
		return rules.Delete(ctx, id)
	}
	return nil
}

// txn is the transaction checkTxn is checking, reused from record to record.
var txn struct {
	id, amountRaw []byte // raw JSON texts
	amount        float64
	matched       bool
	out           *weir.Context
}

// checkTxn handles the first input: the transaction against every rule. A
// transaction without a numeric amount matches no rule.
func checkTxn(in *weir.Record, ctx *weir.Context) error {
	p := in.Payload()
	t := &txn
	t.id, t.matched, t.out = rawOrNull(p, "id"), false, ctx
	raw, kind, ok := weir.JSONGet(p, "amount")
	if ok && kind == weir.KindNumber {
		if t.amount, ok = weir.JSONParseFloat(raw); ok {
			t.amountRaw = raw
			if err := rules.Each(ctx, checkRule); err != nil {
				return err
			}
		}
	}
	t.id, t.amountRaw, t.out = nil, nil, nil // drop the views into the input
	if !t.matched {
		_, err := ctx.EmitToSide("clean") // untouched: the record itself
		return err
	}
	return nil
}

// checkRule emits a match of txn against one rule, when its max_amount is
// below the amount.
func checkRule(id, rule []byte) bool {
	t := &txn
	max, ok := weir.JSONFloat(rule, "max_amount")
	if !ok || !(max < t.amount) {
		return true
	}
	t.matched = true
	o := t.out.Emit()
	o.SetPayload(appendAlert(o.Buffer(), t.id, id, t.amountRaw))
	return true
}

// appendAlert appends {"txn":<txn>,"rule":"<rule id>","amount":<amount>}.
func appendAlert(b, txnID, ruleID, amount []byte) []byte {
	b = append(append(b, `{"txn":`...), txnID...)
	b = appendQuoted(append(b, `,"rule":`...), ruleID)
	b = append(append(b, `,"amount":`...), amount...)
	return append(b, '}')
}

// match maps an interval-join row to what was ordered and paid.
func match(in *weir.Record, out *weir.Output) error {
	p, ok := matchRow(out.Buffer(), in.Payload())
	if !ok {
		return errors.New("match: the payload is not a JSON object")
	}
	out.SetPayload(p)
	return nil
}

// matchRow appends match's output for the row to b; ok is false when the row
// is not a JSON object. The order's id comes from the order, or from the
// payment when there is no order; underpaid means an order with no payment, or
// a payment of less than the order's amount (both numbers, compared as
// float64).
func matchRow(b, row []byte) ([]byte, bool) {
	if !isObject(row) {
		return nil, false
	}
	left, lk, _ := weir.JSONGet(row, "left")
	right, rk, _ := weir.JSONGet(row, "right")
	hasLeft, hasRight := lk == weir.KindObject, rk == weir.KindObject
	order, ordered, paid := null, null, null
	switch {
	case hasLeft:
		order, ordered = rawOrNull(left, "order_id"), rawOrNull(left, "amount")
	case hasRight:
		order = rawOrNull(right, "order_id")
	}
	if hasRight {
		paid = rawOrNull(right, "amount")
	}
	underpaid := false
	if hasLeft {
		underpaid = !hasRight
		l, lok := weir.JSONFloat(left, "amount")
		r, rok := weir.JSONFloat(right, "amount")
		if hasRight && lok && rok && r < l {
			underpaid = true
		}
	}
	b = append(append(b, `{"order":`...), order...)
	b = append(append(b, `,"ordered":`...), ordered...)
	b = append(append(b, `,"paid":`...), paid...)
	if underpaid {
		return append(b, `,"underpaid":true}`...), true
	}
	return append(b, `,"underpaid":false}`...), true
}

// eager fires a window as soon as it holds five elements (and again on every
// batch after), and fires and purges it at its end, on an event-time timer.
func eager(ev *weir.TriggerEvent, res *weir.TriggerResult) error {
	switch ev.Kind {
	case weir.ElementsAdded:
		if ev.Count >= 5 {
			res.Action = weir.Fire
		}
		res.RegisterEventTimer(ev.Window.End - 1)
	case weir.EventTimeTimer:
		if ev.Time >= ev.Window.End-1 {
			res.Action = weir.FireAndPurge
		}
	}
	// A processing-time timer: continue, no timer (the zero result).
	return nil
}

// dropNegative evicts the elements whose "amount" is a number below zero;
// elements without a numeric amount stay.
func dropNegative(_ *weir.Window, elements []*weir.Record, evict []int) ([]int, error) {
	for i, e := range elements {
		if negativeAmount(e.Payload()) {
			evict = append(evict, i)
		}
	}
	return evict, nil
}

// negativeAmount reports whether p's "amount" is a number below zero.
func negativeAmount(p []byte) bool {
	a, ok := weir.JSONFloat(p, "amount")
	return ok && a < 0
}

var null = []byte("null")

// rawOrNull is the raw text of the member field of obj, null when absent.
func rawOrNull(obj []byte, field string) []byte {
	if raw, _, ok := weir.JSONGet(obj, field); ok {
		return raw
	}
	return null
}

// isObject reports whether p's first non-space byte opens a JSON object.
func isObject(p []byte) bool {
	for _, c := range p {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c == '{'
	}
	return false
}

// appendQuoted appends s as a JSON string: '"' and '\\' escaped, control
// characters as \b, \f, \n, \r, \t or \u00XX, every other byte as it is (the
// same text as the example's twins in the other SDKs).
func appendQuoted(b, s []byte) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\f':
			b = append(b, '\\', 'f')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
