// Package embednats starts the in-process NATS server with JetStream that
// `weir standalone` and the tests use.
package embednats

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Options configure the embedded server.
type Options struct {
	// Dir is the data directory; JetStream stores under Dir/jetstream.
	Dir string
	// Host is the listen address. Default 127.0.0.1.
	Host string
	// Port is the client port; -1 picks a free one. (0 is NATS's default, 4222.)
	Port int
	// SyncAlways makes JetStream fsync every write, so that an acknowledged message
	// survives a power cut. Otherwise it syncs every two minutes.
	SyncAlways bool
}

// Start starts the server and waits until it accepts connections.
func Start(o Options) (*server.Server, error) {
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	opts := &server.Options{
		ServerName:         "weir",
		Host:               o.Host,
		Port:               o.Port,
		JetStream:          true,
		StoreDir:           filepath.Join(o.Dir, "jetstream"),
		NoSigs:             true,
		NoLog:              true,
		SyncAlways:         o.SyncAlways,
		MaxPayload:         8 << 20,
		JetStreamMaxMemory: 1 << 30,
	}
	if !o.SyncAlways {
		opts.SyncInterval = 2 * time.Minute
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("configuring the embedded NATS server: %w", err)
	}
	ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		ns.Shutdown()
		return nil, errors.New("the embedded NATS server did not become ready (is the port in use?)")
	}
	return ns, nil
}

// Connect opens a client connection to ns in-process.
func Connect(ns *server.Server, name string) (*nats.Conn, error) {
	nc, err := nats.Connect(ns.ClientURL(), nats.InProcessServer(ns), nats.Name(name), nats.MaxReconnects(-1))
	if err != nil {
		return nil, fmt.Errorf("connecting to the embedded NATS server: %w", err)
	}
	return nc, nil
}
