package connector

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/weir-streams/weir/internal/record"
)

// Header names a sink sets (DESIGN §6).
const (
	HeaderKey       = "Weir-Key"
	HeaderTimestamp = "Weir-Timestamp"
)

// maxPendingPublishes is the window of unacknowledged publishes per sink.
const maxPendingPublishes = 4096

// Sink publishes records to one subject of a stream.
type Sink struct {
	nc      *nats.Conn
	js      jetstream.JetStream
	subject string

	mu  sync.Mutex
	err error // first asynchronous publish failure; guarded by mu
}

// NewSink checks that a stream captures subject and returns a sink publishing to it.
func NewSink(ctx context.Context, nc *nats.Conn, subject string) (*Sink, error) {
	s := &Sink{nc: nc, subject: subject}
	js, err := jetstream.New(nc,
		jetstream.WithPublishAsyncMaxPending(maxPendingPublishes),
		jetstream.WithPublishAsyncTimeout(30*time.Second),
		jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, msg *nats.Msg, err error) {
			s.fail(fmt.Errorf("publishing to %q: %w", msg.Subject, err))
		}))
	if err != nil {
		return nil, fmt.Errorf("opening JetStream: %w", err)
	}
	s.js = js
	if _, err := js.StreamNameBySubject(ctx, subject); err != nil {
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			return nil, fmt.Errorf("sink subject %q is not captured by any stream: create a stream whose subjects include it", subject)
		}
		return nil, fmt.Errorf("looking up the stream of sink subject %q: %w", subject, err)
	}
	return s, nil
}

func (s *Sink) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

// Err returns the first publish failure, if any.
func (s *Sink) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Write publishes every record of b asynchronously.
func (s *Sink) Write(ctx context.Context, b *record.Batch) error {
	return s.write(ctx, b, "", 0)
}

// WriteIDs publishes every record of b asynchronously with a JetStream message id,
// idBase followed by the record's number (first for the first record of b): a
// second publish of the same id within the stream's duplicate window is dropped by
// the stream, which is what makes a sink's re-publish after a failure harmless.
func (s *Sink) WriteIDs(ctx context.Context, b *record.Batch, idBase string, first uint64) error {
	return s.write(ctx, b, idBase, first)
}

func (s *Sink) write(ctx context.Context, b *record.Batch, idBase string, next uint64) error {
	if err := s.Err(); err != nil {
		return err
	}
	if b.Len() == 0 {
		return nil
	}
	// nats.go keeps each message until its ack arrives (to retry it), so the data
	// must outlive the batch: one arena per batch instead of one copy per record.
	arena := make([]byte, 0, b.Size())
	r := b.Reader()
	var v record.View
	for r.Next(&v) {
		start := len(arena)
		arena = append(arena, v.Payload...)
		msg := &nats.Msg{Subject: s.subject, Data: arena[start:len(arena):len(arena)]}
		if idBase != "" || v.Flags&(record.FlagKey|record.FlagTimestamp|record.FlagHeaders) != 0 {
			msg.Header = make(nats.Header, 3+int(v.HeaderCount))
			if v.HasHeaders() {
				_ = v.ForEachHeader(func(name, value []byte) error {
					// Nats-* headers steer JetStream (dedup ids, expectations): a
					// record's copy of its source message's must not steer the sink.
					if n := string(name); !strings.HasPrefix(n, "Nats-") {
						msg.Header[n] = append(msg.Header[n], string(value))
					}
					return nil
				})
			}
			if v.HasKey() {
				msg.Header[HeaderKey] = []string{string(v.Key)}
			}
			if v.HasTimestamp() {
				msg.Header[HeaderTimestamp] = []string{strconv.FormatInt(v.Timestamp, 10)}
			}
			if idBase != "" {
				msg.Header[jetstream.MsgIDHeader] = []string{idBase + strconv.FormatUint(next, 10)}
				next++
			}
		}
		if err := s.publish(ctx, msg); err != nil {
			return err
		}
	}
	return r.Err()
}

func (s *Sink) publish(ctx context.Context, msg *nats.Msg) error {
	for {
		_, err := s.js.PublishMsgAsync(msg)
		if err == nil {
			return nil
		}
		if !errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
			return fmt.Errorf("publishing to %q: %w", s.subject, err)
		}
		// The window is full: wait for acks, then try again.
		select {
		case <-s.js.PublishAsyncComplete():
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if err := s.Err(); err != nil {
			return err
		}
	}
}

// Sync waits until every publish so far is acknowledged, and returns the first
// failure among them.
func (s *Sink) Sync(ctx context.Context) error {
	select {
	case <-s.js.PublishAsyncComplete():
	case <-ctx.Done():
		return ctx.Err()
	}
	return s.Err()
}

// Pending returns how many publishes await their acknowledgement.
func (s *Sink) Pending() int { return s.js.PublishAsyncPending() }
