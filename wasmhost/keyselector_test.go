package wasmhost

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/weir-streams/weir/internal/record"
)

// keyOut is one output of a key_selector: its input index, flags and key.
type keyOut struct {
	idx   uint32
	flags byte
	key   string
}

// keyFrame builds an output frame of key_selector outputs, tag 0.
func keyFrame(outs ...keyOut) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(len(outs)))
	for _, o := range outs {
		b = binary.LittleEndian.AppendUint32(b, o.idx)
		b = binary.LittleEndian.AppendUint32(b, 0)
		v := record.View{Flags: o.flags, Key: []byte(o.key), Payload: []byte("p")}
		b = record.AppendView(b, &v)
	}
	return b
}

func TestKeySelectorOutputs(t *testing.T) {
	var in record.Batch
	in.Reset()
	hdr := record.AppendHeader(nil, "h", "v")
	for k, p := range []string{"a", "b", "c"} {
		v := record.View{Flags: record.FlagPayload | record.FlagTimestamp | record.FlagKey | record.FlagHeaders,
			Payload: []byte(p), Timestamp: int64(k), Key: []byte("old"), Headers: hdr, HeaderCount: 1}
		in.Append(&v)
	}
	newInst := func() *Instance {
		inst := &Instance{fn: &Function{Name: "ks", Kind: KindKeySelector}}
		inst.out.Reset()
		inst.parents.reset(&in)
		return inst
	}

	// Keys replace the old ones; everything else is the input record's.
	inst := newInst()
	if err := inst.onEmit(keyFrame(keyOut{0, record.FlagKey, `"x"`}, keyOut{1, record.FlagKey, ""})); err != nil {
		t.Fatal(err)
	}
	// A second emit in the same call continues the sequence.
	if err := inst.onEmit(keyFrame(keyOut{2, record.FlagKey, "\x00\xff"})); err != nil {
		t.Fatal(err)
	}
	r := inst.out.Reader()
	var v record.View
	wantKeys := []string{`"x"`, "", "\x00\xff"}
	for k := 0; r.Next(&v); k++ {
		if !v.HasKey() || string(v.Key) != wantKeys[k] || string(v.Payload) != "abc"[k:k+1] || v.Timestamp != int64(k) || v.HeaderCount != 1 {
			t.Errorf("output %d: %+v", k, v)
		}
	}
	if err := r.Err(); err != nil || inst.out.Len() != 3 {
		t.Fatalf("%d outputs, %v", inst.out.Len(), err)
	}

	for _, tc := range []struct {
		name  string
		frame []byte
		want  string
	}{
		{"out of order", keyFrame(keyOut{1, record.FlagKey, "k"}), "output 0 has input index 1"},
		{"repeated", keyFrame(keyOut{0, record.FlagKey, "k"}, keyOut{0, record.FlagKey, "k"}), "output 1 has input index 0"},
		{"no parent", keyFrame(keyOut{record.NoParent, record.FlagKey, "k"}), "input index 4294967295"},
		{"no key", keyFrame(keyOut{0, 0, ""}), "flags 0x0"},
		{"payload too", keyFrame(keyOut{0, record.FlagKey | record.FlagPayload, "k"}), "flags 0x5"},
	} {
		err := newInst().onEmit(tc.frame)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
	}

	side := binary.LittleEndian.AppendUint32(nil, 1)
	side = binary.LittleEndian.AppendUint32(side, 0)
	side = binary.LittleEndian.AppendUint32(side, 1)
	side = record.AppendView(side, &record.View{Flags: record.FlagKey, Key: []byte("k")})
	if err := newInst().onEmit(side); err == nil || !strings.Contains(err.Error(), "not declared") {
		t.Errorf("a side output: %v", err)
	}
}

func TestKeySelectorDescription(t *testing.T) {
	for _, f := range []Function{
		{Name: "ks", Kind: KindKeySelector, SideOutputs: []string{"x"}},
		{Name: "ks", Kind: KindKeySelector, State: []StateDescriptor{{Name: "s", Kind: "value"}}},
	} {
		d := Description{ABIVersion: ABIVersion, Functions: []Function{f}}
		if err := d.validate(); err == nil || !strings.Contains(err.Error(), "key_selector declares no side outputs") {
			t.Errorf("%+v: %v", f, err)
		}
	}
	d := Description{ABIVersion: ABIVersion, Functions: []Function{{Name: "ks", Kind: KindKeySelector}}}
	if err := d.validate(); err != nil || !Executable(KindKeySelector) {
		t.Fatal(err)
	}
}
