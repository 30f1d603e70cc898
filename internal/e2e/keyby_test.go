package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
)

// TestKeyBy keys the same records by a JSON field (built in) and by the Go
// module's customer key selector, and checks every record reaches its sink with
// the key the step gave it (the sink writes it as the Weir-Key header). With
// parallelism 1 the hash edges have one receiver, so this holds whatever the
// exchange does with the key.
func TestKeyBy(t *testing.T) {
	const n = 2000
	s := startStandalone(t, t.TempDir())
	s.upload("orders", "orders.wasm")
	s.stream("IN", "keyed.in")
	s.stream("BYUSER", "keyed.user")
	s.stream("BYCUSTOMER", "keyed.customer")
	id := s.submit(`name: keyby
pipeline:
  - id: src
    source: { jetstream: { stream: IN } }
  - id: by-user
    key_by: { json_field: user }
  - id: out-user
    sink: { jetstream: { subject: keyed.user } }
  - id: by-customer
    input: src
    key_by: { module: orders, function: customer }
  - id: out-customer
    sink: { jetstream: { subject: keyed.customer } }
`)
	s.waitStatus(id, "RUNNING", time.Minute)
	var payloads [][]byte
	wantUser, wantCustomer := map[string]string{}, map[string]string{}
	for i := range n {
		var p string
		switch i % 4 {
		case 0:
			p = fmt.Sprintf(`{"id":%d,"user":"u\u00e9%d","customer":"c-%d"}`, i, i%13, i%7)
			wantUser[p], wantCustomer[p] = fmt.Sprintf(`"ué%d"`, i%13), fmt.Sprintf(`"c-%d"`, i%7)
		case 1:
			p = fmt.Sprintf(`{"id":%d,"user":%d.0,"customer":%d}`, i, i%13, i%7)
			wantUser[p], wantCustomer[p] = fmt.Sprint(i%13), fmt.Sprint(i%7)
		case 2:
			p = fmt.Sprintf(`{"id":%d}`, i)
			wantUser[p], wantCustomer[p] = "null", "null"
		case 3:
			p = fmt.Sprintf(`[%d]`, i)
			wantUser[p], wantCustomer[p] = "null", "null"
		}
		payloads = append(payloads, []byte(p))
	}
	s.publish("keyed.in", payloads)
	for _, c := range []struct {
		stream string
		want   map[string]string
	}{{"BYUSER", wantUser}, {"BYCUSTOMER", wantCustomer}} {
		s.waitCount(c.stream, n, 2*time.Minute)
		got := s.readKeys(c.stream)
		require.Equal(t, uint64(n), s.msgCount(c.stream), "%s: no duplicates", c.stream)
		require.Equal(t, c.want, got, c.stream)
	}
	// Half the records have no usable user: the built-in key_by counts them, and the
	// count reaches the job API with the next heartbeat.
	require.Eventually(t, func() bool {
		for _, v := range s.job(id).Plan.Vertices {
			if v.ID == "by-user" {
				return len(v.Subtasks) == 1 && v.Subtasks[0].KeyedNull == n/2
			}
		}
		return false
	}, 30*time.Second, 200*time.Millisecond, "keyed_null of by-user never reached %d", n/2)
	// The source feeds two steps, so neither key_by chains with it: each runs
	// behind a forward edge, and a hash edge leaves it.
	parts := map[string]string{}
	for _, e := range s.job(id).Plan.Edges {
		parts[e.From+" -> "+e.To] = e.Partitioning
	}
	require.Equal(t, map[string]string{
		"src -> by-user": "forward", "by-user -> out-user": "hash",
		"src -> by-customer": "forward", "by-customer -> out-customer": "hash",
	}, parts)
}

// readKeys returns the Weir-Key header of every message of stream, by payload.
func (s *standalone) readKeys(stream string) map[string]string {
	s.t.Helper()
	out := map[string]string{}
	s.forEach(stream, func(m jetstream.Msg) { out[string(m.Data())] = m.Headers().Get("Weir-Key") })
	return out
}
