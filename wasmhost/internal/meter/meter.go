// Package meter instruments a WebAssembly module so that every loop can be
// interrupted cheaply.
//
// Instrument adds one mutable i32 global (the fuel) and one function import,
// weir.__yield: () -> i32, and puts at the head of every loop body:
//
//	if fuel == 0 { fuel = __yield() }
//	fuel = fuel - 1
//
// so a running guest calls the host once every few thousand loop iterations. The
// host's __yield checks the call's deadline (and traps the guest when it passed) and
// is a point where the Go scheduler can preempt the goroutine, which machine code
// cannot be otherwise. This replaces wazero's WithCloseOnContextDone, which calls
// into Go on every loop iteration and costs several times more in a tight loop.
//
// Adding the import shifts the index of every function the module defines by one;
// Instrument renumbers calls, ref.func, exports, the start function, element segments
// and the function names of the "name" section. Everything else is copied unchanged.
package meter

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// YieldModule and YieldName name the import Instrument adds.
const (
	YieldModule = "weir"
	YieldName   = "__yield"
)

// Section ids.
const (
	secCustom   = 0
	secType     = 1
	secImport   = 2
	secFunction = 3
	secGlobal   = 6
	secExport   = 7
	secStart    = 8
	secElement  = 9
	secCode     = 10
)

// ErrMalformed wraps every error of a module Instrument cannot read.
var ErrMalformed = errors.New("meter: malformed module")

type reader struct {
	b   []byte
	pos int
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s at byte %d", ErrMalformed, fmt.Sprintf(format, args...), r.pos)
	}
	r.pos = len(r.b)
}

func (r *reader) byte() byte {
	if r.pos >= len(r.b) {
		r.fail("unexpected end")
		return 0
	}
	c := r.b[r.pos]
	r.pos++
	return c
}

func (r *reader) u32() uint32 {
	v, n := binary.Uvarint(r.b[r.pos:])
	if n <= 0 || v > 1<<32-1 {
		r.fail("bad u32")
		return 0
	}
	r.pos += n
	return uint32(v)
}

// sleb skips a signed LEB128 of up to maxBytes bytes.
func (r *reader) sleb(maxBytes int) {
	for i := 0; i < maxBytes; i++ {
		if r.byte()&0x80 == 0 {
			return
		}
	}
	r.fail("bad signed LEB128")
}

func (r *reader) bytes(n int) []byte {
	if n < 0 || n > len(r.b)-r.pos {
		r.fail("length %d past the end", n)
		return nil
	}
	s := r.b[r.pos : r.pos+n]
	r.pos += n
	return s
}

func (r *reader) done() bool { return r.err != nil || r.pos >= len(r.b) }

func appendU32(dst []byte, v uint32) []byte { return binary.AppendUvarint(dst, uint64(v)) }

func appendSection(dst []byte, id byte, body []byte) []byte {
	dst = append(dst, id)
	dst = appendU32(dst, uint32(len(body)))
	return append(dst, body...)
}

// Instrument returns wasm with fuel checks at every loop head; fuel is the value
// the fuel global starts with.
func Instrument(wasm []byte, fuel int32) ([]byte, error) {
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" || binary.LittleEndian.Uint32(wasm[4:]) != 1 {
		return nil, fmt.Errorf("%w: not a WebAssembly 1.0 binary", ErrMalformed)
	}
	type section struct {
		id   byte
		body []byte
	}
	var secs []section
	r := &reader{b: wasm, pos: 8}
	for !r.done() {
		id := r.byte()
		n := r.u32()
		body := r.bytes(int(n))
		secs = append(secs, section{id, body})
	}
	if r.err != nil {
		return nil, r.err
	}
	// First pass: count types, imported functions and globals, defined globals.
	var nTypes, nImpFuncs, nImpGlobals, nGlobals uint32
	for _, s := range secs {
		sr := &reader{b: s.body}
		switch s.id {
		case secType:
			nTypes = sr.u32()
		case secImport:
			n := sr.u32()
			for i := uint32(0); i < n && sr.err == nil; i++ {
				sr.bytes(int(sr.u32()))
				sr.bytes(int(sr.u32()))
				switch kind := sr.byte(); kind {
				case 0: // func
					sr.u32()
					nImpFuncs++
				case 1: // table
					sr.byte()
					skipLimits(sr)
				case 2: // memory
					skipLimits(sr)
				case 3: // global
					sr.byte()
					sr.byte()
					nImpGlobals++
				case 4: // tag
					sr.byte()
					sr.u32()
				default:
					sr.fail("unknown import kind %d", kind)
				}
			}
		case secGlobal:
			nGlobals = sr.u32()
		}
		if sr.err != nil {
			return nil, sr.err
		}
	}
	m := &rewriter{shiftFrom: nImpFuncs, yield: nImpFuncs, fuel: nImpGlobals + nGlobals}
	yieldType := nTypes

	out := append([]byte(nil), wasm[:8]...)
	has := map[byte]bool{}
	for _, s := range secs {
		has[s.id] = true
	}
	// insert emits the sections Instrument creates when the module lacks them,
	// just before the first section that must follow them.
	emitted := map[byte]bool{}
	insertBefore := func(id byte) {
		if !has[secType] && !emitted[secType] && order(id) > order(secType) {
			emitted[secType] = true
			out = appendSection(out, secType, append(appendU32(nil, 1), 0x60, 0, 1, 0x7F))
		}
		if !has[secImport] && !emitted[secImport] && order(id) > order(secImport) {
			emitted[secImport] = true
			out = appendSection(out, secImport, m.appendYieldImport(appendU32(nil, 1), yieldType))
		}
		if !has[secGlobal] && !emitted[secGlobal] && order(id) > order(secGlobal) {
			emitted[secGlobal] = true
			out = appendSection(out, secGlobal, appendFuelGlobal(appendU32(nil, 1), fuel))
		}
	}
	for _, s := range secs {
		if s.id != secCustom {
			insertBefore(s.id)
		}
		var body []byte
		var err error
		switch s.id {
		case secType:
			body = appendU32(nil, nTypes+1)
			body = append(body, skipCount(s.body)...)
			body = append(body, 0x60, 0, 1, 0x7F)
		case secImport:
			sr := &reader{b: s.body}
			n := sr.u32()
			body = m.appendYieldImport(append(appendU32(nil, n+1), s.body[sr.pos:]...), yieldType)
		case secGlobal:
			body, err = m.globals(s.body, fuel)
		case secExport:
			body, err = m.exports(s.body)
		case secStart:
			sr := &reader{b: s.body}
			body = appendU32(nil, m.fn(sr.u32()))
			err = sr.err
		case secElement:
			body, err = m.elements(s.body)
		case secCode:
			body, err = m.code(s.body)
		case secCustom:
			body, err = m.custom(s.body)
		default:
			body = s.body
		}
		if err != nil {
			return nil, err
		}
		out = appendSection(out, s.id, body)
	}
	insertBefore(255)
	return out, nil
}

// order is a section's place in the binary format's section order.
func order(id byte) int {
	switch id {
	case 1, 2, 3, 4, 5:
		return int(id)
	case 13: // tag
		return 6
	case 6:
		return 7
	case 7, 8, 9:
		return int(id) + 1
	case 12: // data count
		return 11
	case 10, 11:
		return int(id) + 2
	}
	return 100
}

func skipCount(b []byte) []byte {
	r := &reader{b: b}
	r.u32()
	return b[r.pos:]
}

func skipLimits(r *reader) {
	flags := r.byte()
	r.u32()
	if flags&1 != 0 {
		r.u32()
	}
}

func appendFuelGlobal(dst []byte, fuel int32) []byte {
	dst = append(dst, 0x7F, 0x01, 0x41) // i32, mutable, i32.const
	dst = appendSLEB32(dst, fuel)
	return append(dst, 0x0B)
}

func appendSLEB32(dst []byte, v int32) []byte {
	x := int64(v)
	for {
		c := byte(x & 0x7F)
		x >>= 7
		if (x == 0 && c&0x40 == 0) || (x == -1 && c&0x40 != 0) {
			return append(dst, c)
		}
		dst = append(dst, c|0x80)
	}
}

type rewriter struct {
	shiftFrom uint32 // defined functions start here before instrumenting
	yield     uint32 // function index of the added import
	fuel      uint32 // global index of the fuel
}

// fn maps an old function index to its new one.
func (m *rewriter) fn(i uint32) uint32 {
	if i >= m.shiftFrom {
		return i + 1
	}
	return i
}

func (m *rewriter) appendYieldImport(dst []byte, typeIdx uint32) []byte {
	dst = appendU32(dst, uint32(len(YieldModule)))
	dst = append(dst, YieldModule...)
	dst = appendU32(dst, uint32(len(YieldName)))
	dst = append(dst, YieldName...)
	dst = append(dst, 0x00)
	return appendU32(dst, typeIdx)
}

func (m *rewriter) globals(b []byte, fuel int32) ([]byte, error) {
	r := &reader{b: b}
	n := r.u32()
	out := appendU32(nil, n+1)
	for i := uint32(0); i < n && r.err == nil; i++ {
		start := r.pos
		r.byte() // valtype
		r.byte() // mutability
		out = append(out, b[start:r.pos]...)
		var err error
		if out, err = m.expr(r, out); err != nil {
			return nil, err
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	return appendFuelGlobal(out, fuel), nil
}

func (m *rewriter) exports(b []byte) ([]byte, error) {
	r := &reader{b: b}
	n := r.u32()
	out := appendU32(nil, n)
	for i := uint32(0); i < n && r.err == nil; i++ {
		start := r.pos
		r.bytes(int(r.u32()))
		kind := r.byte()
		out = append(out, b[start:r.pos]...)
		idx := r.u32()
		if kind == 0 {
			idx = m.fn(idx)
		}
		out = appendU32(out, idx)
	}
	return out, r.err
}

func (m *rewriter) elements(b []byte) ([]byte, error) {
	r := &reader{b: b}
	n := r.u32()
	out := appendU32(nil, n)
	for i := uint32(0); i < n && r.err == nil; i++ {
		flags := r.u32()
		out = appendU32(out, flags)
		var err error
		if flags&1 == 0 { // active: (table index,) offset expression
			if flags&2 != 0 {
				out = appendU32(out, r.u32())
			}
			if out, err = m.expr(r, out); err != nil {
				return nil, err
			}
		}
		exprs := flags&4 != 0
		if flags&3 != 0 { // elemkind or reftype
			out = append(out, r.byte())
		}
		count := r.u32()
		out = appendU32(out, count)
		for k := uint32(0); k < count && r.err == nil; k++ {
			if exprs {
				if out, err = m.expr(r, out); err != nil {
					return nil, err
				}
			} else {
				out = appendU32(out, m.fn(r.u32()))
			}
		}
	}
	return out, r.err
}

// custom renumbers the function names of the "name" section and copies the rest.
func (m *rewriter) custom(b []byte) ([]byte, error) {
	r := &reader{b: b}
	name := string(r.bytes(int(r.u32())))
	if r.err != nil || name != "name" {
		return b, nil // not ours to judge: wazero checks custom sections
	}
	out := append([]byte(nil), b[:r.pos]...)
	for !r.done() {
		id := r.byte()
		sub := &reader{b: r.bytes(int(r.u32()))}
		if r.err != nil {
			return b, nil
		}
		var body []byte
		switch id {
		case 1: // function names
			n := sub.u32()
			body = appendU32(nil, n)
			for i := uint32(0); i < n && sub.err == nil; i++ {
				body = appendU32(body, m.fn(sub.u32()))
				l := sub.u32()
				body = appendU32(body, l)
				body = append(body, sub.bytes(int(l))...)
			}
		case 2: // local names, per function
			n := sub.u32()
			body = appendU32(nil, n)
			for i := uint32(0); i < n && sub.err == nil; i++ {
				body = appendU32(body, m.fn(sub.u32()))
				start := sub.pos
				k := sub.u32()
				for j := uint32(0); j < k && sub.err == nil; j++ {
					sub.u32()
					sub.bytes(int(sub.u32()))
				}
				body = append(body, sub.b[start:sub.pos]...)
			}
		default:
			body = sub.b
		}
		if sub.err != nil {
			return b, nil // a broken name section only loses names
		}
		out = append(out, id)
		out = appendU32(out, uint32(len(body)))
		out = append(out, body...)
	}
	return out, nil
}

func (m *rewriter) code(b []byte) ([]byte, error) {
	r := &reader{b: b}
	n := r.u32()
	out := appendU32(nil, n)
	var fnBody []byte
	for i := uint32(0); i < n && r.err == nil; i++ {
		size := r.u32()
		fr := &reader{b: r.bytes(int(size))}
		if r.err != nil {
			break
		}
		fnBody = fnBody[:0]
		locals := fr.u32()
		for j := uint32(0); j < locals && fr.err == nil; j++ {
			fr.u32()
			fr.byte()
		}
		fnBody = append(fnBody, fr.b[:fr.pos]...)
		var err error
		if fnBody, err = m.instructions(fr, fnBody, false); err != nil {
			return nil, fmt.Errorf("function %d: %w", i, err)
		}
		out = appendU32(out, uint32(len(fnBody)))
		out = append(out, fnBody...)
	}
	return out, r.err
}

// expr copies a constant expression up to and including its end.
func (m *rewriter) expr(r *reader, out []byte) ([]byte, error) {
	return m.instructions(r, out, true)
}

// instructions copies an instruction sequence until the end that closes it (the
// function body's or a constant expression's), renumbering function indices and
// instrumenting loops (not in constant expressions).
func (m *rewriter) instructions(r *reader, out []byte, constExpr bool) ([]byte, error) {
	depth := 0
	for r.err == nil {
		start := r.pos
		op := r.byte()
		switch {
		case op == 0x0B: // end
			out = append(out, op)
			if depth == 0 {
				if !constExpr && r.pos != len(r.b) {
					r.fail("code after the end of a function")
				}
				return out, r.err
			}
			depth--
			continue
		case op == 0x02 || op == 0x04: // block, if
			blockType(r)
			depth++
		case op == 0x03: // loop
			blockType(r)
			depth++
			out = append(out, r.b[start:r.pos]...)
			out = m.appendFuelCheck(out)
			continue
		case op == 0x10 || op == 0x12 || op == 0xD2: // call, return_call, ref.func
			out = append(out, op)
			out = appendU32(out, m.fn(r.u32()))
			continue
		default:
			skipImmediates(r, op)
		}
		out = append(out, r.b[start:r.pos]...)
	}
	return out, r.err
}

func (m *rewriter) appendFuelCheck(out []byte) []byte {
	out = append(out, 0x23) // global.get fuel
	out = appendU32(out, m.fuel)
	out = append(out, 0x45, 0x04, 0x40, 0x10) // i32.eqz; if; call yield
	out = appendU32(out, m.yield)
	out = append(out, 0x24) // global.set fuel
	out = appendU32(out, m.fuel)
	out = append(out, 0x0B, 0x23) // end; global.get fuel
	out = appendU32(out, m.fuel)
	out = append(out, 0x41, 0x01, 0x6B, 0x24) // i32.const 1; i32.sub; global.set fuel
	return appendU32(out, m.fuel)
}

func blockType(r *reader) {
	c := r.pos
	if c >= len(r.b) {
		r.fail("unexpected end")
		return
	}
	switch b := r.b[c]; {
	case b == 0x40 || (b >= 0x6F && b <= 0x7F) || b == 0x63 || b == 0x64:
		r.pos++
		if b == 0x63 || b == 0x64 { // (ref null? ht)
			r.sleb(5)
		}
	default:
		r.sleb(5) // type index as s33
	}
}

func memarg(r *reader) {
	align := r.u32()
	if align&0x40 != 0 { // multi-memory: a memory index follows
		r.u32()
	}
	r.u32()
}

func skipImmediates(r *reader, op byte) {
	switch {
	case op <= 0x01, op == 0x05, op == 0x0F, op == 0x1A, op == 0x1B, op == 0xD1:
	case op == 0x0C, op == 0x0D: // br, br_if
		r.u32()
	case op == 0x0E: // br_table
		n := r.u32()
		for i := uint32(0); i <= n && r.err == nil; i++ {
			r.u32()
		}
	case op == 0x11, op == 0x13: // call_indirect, return_call_indirect
		r.u32()
		r.u32()
	case op == 0x1C: // select t*
		n := r.u32()
		for i := uint32(0); i < n && r.err == nil; i++ {
			r.byte()
		}
	case op >= 0x20 && op <= 0x26: // local/global get/set/tee, table.get/set
		r.u32()
	case op >= 0x28 && op <= 0x3E: // loads and stores
		memarg(r)
	case op == 0x3F, op == 0x40: // memory.size, memory.grow
		r.u32()
	case op == 0x41:
		r.sleb(5)
	case op == 0x42:
		r.sleb(10)
	case op == 0x43:
		r.bytes(4)
	case op == 0x44:
		r.bytes(8)
	case op >= 0x45 && op <= 0xC4: // numeric
	case op == 0xD0: // ref.null
		r.sleb(5)
	case op == 0xFC:
		switch sub := r.u32(); {
		case sub <= 7:
		case sub == 8: // memory.init
			r.u32()
			r.u32()
		case sub == 9, sub == 11, sub == 13, sub == 15, sub == 16, sub == 17:
			r.u32()
		case sub == 10, sub == 12, sub == 14:
			r.u32()
			r.u32()
		default:
			r.fail("unknown instruction 0xFC %d", sub)
		}
	case op == 0xFD:
		switch sub := r.u32(); {
		case sub <= 11, sub == 92, sub == 93:
			memarg(r)
		case sub == 12, sub == 13:
			r.bytes(16)
		case sub >= 21 && sub <= 34:
			r.byte()
		case sub >= 84 && sub <= 91:
			memarg(r)
			r.byte()
		default:
			if sub > 0xFF {
				r.fail("unknown instruction 0xFD %d", sub)
			}
		}
	case op == 0xFE:
		if sub := r.u32(); sub == 0x03 {
			r.byte()
		} else {
			memarg(r)
		}
	default:
		r.fail("unsupported instruction 0x%02x", op)
	}
}
