package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/weir-streams/weir/control"
	"github.com/weir-streams/weir/internal/embednats"
	"github.com/weir-streams/weir/worker"
)

type standaloneFlags struct {
	dataDir          string
	httpAddr         string
	natsPort         int
	slots            int
	sync             string
	logFormat        string // the root command's --log-format
	heartbeatTimeout time.Duration
	tlsCert, tlsKey  string
	tlsCA            string
}

func newStandaloneCmd() *cobra.Command {
	f := standaloneFlags{}
	cmd := &cobra.Command{
		Use:   "standalone",
		Short: "Run NATS JetStream, the control plane and a worker in one process",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.logFormat = logFormat(cmd)
			return runStandalone(cmd.Context(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.dataDir, "data-dir", "./weir-data", "directory for JetStream data and the Wasm compilation cache")
	fl.StringVar(&f.httpAddr, "http", "127.0.0.1:8080", "address of the REST API and web UI (port 0 picks a free one)")
	fl.IntVar(&f.natsPort, "nats-port", 4222, "client port of the embedded NATS server (0 picks a free one)")
	fl.IntVar(&f.slots, "slots", 4, "task slots of the worker")
	fl.StringVar(&f.sync, "sync", "always", "JetStream fsync: always (an acknowledged write survives a power cut) or interval (every 2 minutes, faster)")
	fl.DurationVar(&f.heartbeatTimeout, "heartbeat-timeout", 30*time.Second, "time after which a silent worker is lost (used by distributed deployments)")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "TLS certificate (not supported yet)")
	fl.StringVar(&f.tlsKey, "tls-key", "", "TLS key (not supported yet)")
	fl.StringVar(&f.tlsCA, "tls-ca", "", "TLS CA bundle (not supported yet)")
	return cmd
}

func runStandalone(parent context.Context, f standaloneFlags) error {
	logger, err := newLogger(os.Stderr, f.logFormat)
	if err != nil {
		return usageError{err}
	}
	slog.SetDefault(logger)
	if f.sync != "always" && f.sync != "interval" {
		return usageError{fmt.Errorf("--sync %q: want always or interval", f.sync)}
	}
	if f.slots < 1 {
		return usageError{fmt.Errorf("--slots %d: want at least 1", f.slots)}
	}
	if f.tlsCert != "" || f.tlsKey != "" || f.tlsCA != "" {
		return usageError{errors.New("--tls-cert, --tls-key, --tls-ca: not supported yet by standalone")}
	}
	if err := os.MkdirAll(f.dataDir, 0o755); err != nil {
		return fmt.Errorf("creating data directory: %w", err)
	}
	natsPort := f.natsPort
	if natsPort == 0 {
		natsPort = -1
	}
	if f.sync == "interval" {
		logger.Warn("--sync interval: JetStream fsyncs every 2 minutes; acknowledged records can be lost on a power cut")
	}
	ns, err := embednats.Start(embednats.Options{Dir: f.dataDir, Port: natsPort, SyncAlways: f.sync == "always"})
	if err != nil {
		return err
	}
	defer func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	}()
	logger.Info("NATS JetStream listening", "nats", ns.ClientURL(), "store", filepath.Join(f.dataDir, "jetstream"))

	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	controlNC, err := embednats.Connect(ns, "weir-control")
	if err != nil {
		return err
	}
	defer controlNC.Close()
	ctl, err := control.New(ctx, control.Options{CacheDir: filepath.Join(f.dataDir, "wasm-cache")}, controlNC, logger.With("component", "control"), reg)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", f.httpAddr)
	if err != nil {
		_ = ctl.Close(context.Background())
		return fmt.Errorf("listening on --http %s: %w", f.httpAddr, err)
	}
	srv := &http.Server{Handler: ctl.Handler(), ReadHeaderTimeout: 10 * time.Second}
	httpDone := make(chan error, 1)
	go func() { httpDone <- srv.Serve(ln) }()
	logger.Info("REST API and web UI listening", "http", "http://"+ln.Addr().String())

	workerNC, err := embednats.Connect(ns, "weir-worker")
	if err != nil {
		return err
	}
	defer workerNC.Close()
	// Sources read through a connection of their own: a sink's publishes and
	// acknowledgements must not hold up a consumer's deliveries.
	sourceNC, err := embednats.Connect(ns, "weir-worker-sources")
	if err != nil {
		return err
	}
	defer sourceNC.Close()
	wk, err := worker.New(ctx, worker.Options{ID: "standalone-worker", Slots: f.slots, DataDir: f.dataDir, SourceConn: sourceNC}, workerNC, ctl, logger.With("component", "worker"))
	if err != nil {
		return err
	}
	workerCtx, stopWorker := context.WithCancel(context.Background())
	workerDone := make(chan error, 1)
	go func() { workerDone <- wk.Run(workerCtx) }()
	logger.Info("weir standalone ready", "slots", f.slots)

	select {
	case <-ctx.Done():
		logger.Info("shutting down")
	case err := <-httpDone:
		logger.Error("HTTP server stopped", "err", err)
	}
	// Stop order: no new requests; jobs suspend gracefully (sources stop, what was
	// read reaches the sinks, progress is saved); then the worker; then NATS.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdownCtx)
	if err := ctl.Close(shutdownCtx); err != nil {
		logger.Warn("closing the control plane", "err", err)
	}
	stopWorker()
	<-workerDone
	logger.Info("stopped")
	return nil
}

// usageError marks errors in how weir was invoked (exit code 2).
type usageError struct{ error }

func (u usageError) Unwrap() error { return u.error }
