package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"
)

// newStreamCmd is a small JetStream helper so that a quick start needs no other
// NATS tool: create a stream, publish lines, print a stream's messages.
func newStreamCmd() *cobra.Command {
	natsURL := "nats://127.0.0.1:4222"
	cmd := &cobra.Command{Use: "stream", Short: "Create, feed and read JetStream streams (a convenience for trying Weir)"}
	cmd.PersistentFlags().StringVar(&natsURL, "nats", natsURL, "NATS server URL (env WEIR_NATS)")
	connect := func(ctx context.Context) (*nats.Conn, jetstream.JetStream, error) {
		nc, err := nats.Connect(natsURL, nats.Timeout(5*time.Second))
		if err != nil {
			return nil, nil, fmt.Errorf("cannot reach NATS at %s: %w", natsURL, err)
		}
		js, err := jetstream.New(nc)
		if err != nil {
			nc.Close()
			return nil, nil, err
		}
		return nc, js, nil
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "create NAME SUBJECT...",
		Short: "Create (or update) a file-backed stream capturing the subjects",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			nc, js, err := connect(cmd.Context())
			if err != nil {
				return err
			}
			defer nc.Close()
			_, err = js.CreateOrUpdateStream(cmd.Context(), jetstream.StreamConfig{Name: args[0], Subjects: args[1:], Storage: jetstream.FileStorage})
			if err != nil {
				return fmt.Errorf("creating stream %s: %w", args[0], err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "stream %s captures %v\n", args[0], args[1:])
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "publish SUBJECT [MESSAGE...]",
		Short: "Publish each MESSAGE, or each line of standard input, and wait for the acks",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			nc, js, err := connect(cmd.Context())
			if err != nil {
				return err
			}
			defer nc.Close()
			msgs := args[1:]
			if len(msgs) == 0 {
				sc := bufio.NewScanner(cmd.InOrStdin())
				sc.Buffer(make([]byte, 1<<20), 8<<20)
				for sc.Scan() {
					msgs = append(msgs, sc.Text())
				}
				if err := sc.Err(); err != nil {
					return err
				}
			}
			for _, m := range msgs {
				if _, err := js.Publish(cmd.Context(), args[0], []byte(m)); err != nil {
					return fmt.Errorf("publishing to %s: %w", args[0], err)
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "published %d messages to %s\n", len(msgs), args[0])
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "view STREAM",
		Short: "Print every message of a stream, one per line",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			nc, js, err := connect(cmd.Context())
			if err != nil {
				return err
			}
			defer nc.Close()
			ctx := cmd.Context()
			st, err := js.Stream(ctx, args[0])
			if err != nil {
				return fmt.Errorf("stream %s: %w", args[0], err)
			}
			info, err := st.Info(ctx)
			if err != nil {
				return err
			}
			cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
			if err != nil {
				return err
			}
			w := bufio.NewWriter(cmd.OutOrStdout())
			defer w.Flush()
			for n := uint64(0); n < info.State.Msgs; {
				m, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
				if err != nil {
					if errors.Is(err, io.EOF) {
						break
					}
					return err
				}
				fmt.Fprintf(w, "%s\n", m.Data())
				n++
			}
			return nil
		},
	})
	return cmd
}
