package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/weir-streams/weir/control"
	"github.com/weir-streams/weir/worker"
)

type controlFlags struct {
	natsURL          string
	httpAddr         string
	grpcAddr         string
	dataDir          string
	logFormat        string
	heartbeatTimeout time.Duration
	tls              tlsFlags
}

func newControlCmd() *cobra.Command {
	f := controlFlags{}
	cmd := &cobra.Command{
		Use:   "control",
		Short: "Run the control plane of a distributed deployment (workers join with `weir worker`)",
		Long: `Run the control plane: the REST API and web UI (--http), and the gRPC service
workers register with (--grpc). Job specs, modules and progress live in the NATS
JetStream server or cluster given by --nats; nothing else needs to persist.

A worker whose gRPC session drops is lost at once; one that stops sending
heartbeats is lost after --heartbeat-timeout. The jobs that ran on a lost worker
restart on the remaining slots according to their restart strategy.

With --tls-cert and --tls-key the gRPC service uses TLS; with --tls-ca as well it
requires workers to present a certificate signed by that CA (mutual TLS). With
tls:// NATS URLs, --tls-ca and --tls-cert also secure the NATS connection.

Every flag is also read from WEIR_<FLAG> (WEIR_NATS, WEIR_HTTP, WEIR_GRPC, ...).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.logFormat = logFormat(cmd)
			return runControl(cmd.Context(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.natsURL, "nats", "nats://127.0.0.1:4222", "NATS server or cluster URLs, comma separated")
	fl.StringVar(&f.httpAddr, "http", "127.0.0.1:8080", "address of the REST API and web UI (port 0 picks a free one)")
	fl.StringVar(&f.grpcAddr, "grpc", "127.0.0.1:7070", "address workers register with (port 0 picks a free one)")
	fl.StringVar(&f.dataDir, "data-dir", "./weir-data", "directory for the Wasm compilation cache of upload validation")
	fl.DurationVar(&f.heartbeatTimeout, "heartbeat-timeout", 10*time.Second, "time after which a silent worker is lost")
	f.tls.register(fl, "gRPC server certificate")
	return cmd
}

type workerFlags struct {
	controlAddr string
	natsURL     string
	slots       int
	dataDir     string
	id          string
	logFormat   string
	tls         tlsFlags
}

func newWorkerCmd() *cobra.Command {
	f := workerFlags{}
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run a worker that offers task slots to a control plane",
		Long: `Run a worker: it registers its --slots with the control plane at --control
(gRPC), fetches Wasm modules from the NATS Object Store by digest, reads and writes
JetStream streams and exchanges records with other workers over core NATS subjects
with credit-based flow control, all through the NATS server or cluster at --nats.

A worker that cannot reach the control plane or NATS at start exits non-zero within
seconds, naming what failed. If its session with the control plane drops later, it
cancels its tasks (the control plane restarts them) and registers again.

Every worker on one machine needs its own --data-dir (it holds the Wasm compilation
cache). --id names the worker (default: host name and process id).

With --tls-ca the control plane's certificate is verified against that CA; with
--tls-cert and --tls-key the worker presents a client certificate (mutual TLS).
With tls:// NATS URLs, the same flags secure the NATS connections.

Every flag is also read from WEIR_<FLAG> (WEIR_CONTROL, WEIR_NATS, WEIR_SLOTS, ...).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.logFormat = logFormat(cmd)
			return runWorker(cmd.Context(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.controlAddr, "control", "127.0.0.1:7070", "gRPC address of the control plane")
	fl.StringVar(&f.natsURL, "nats", "nats://127.0.0.1:4222", "NATS server or cluster URLs, comma separated")
	fl.IntVar(&f.slots, "slots", 4, "task slots offered")
	fl.StringVar(&f.dataDir, "data-dir", "./weir-data", "directory for the Wasm compilation cache")
	fl.StringVar(&f.id, "id", "", "worker id (default: host name and process id)")
	f.tls.register(fl, "client certificate for mutual TLS")
	return cmd
}

// connectNATS connects to an external NATS server or cluster, failing fast when
// none answers, and reconnecting for ever once connected.
func connectNATS(url, name string, tlsCfg *tls.Config, logger *slog.Logger) (*nats.Conn, error) {
	opts := []nats.Option{
		nats.Name(name),
		nats.Timeout(5 * time.Second),
		nats.MaxReconnects(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				logger.Warn("NATS disconnected", "conn", name, "err", err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { logger.Info("NATS reconnected", "conn", name, "url", c.ConnectedUrl()) }),
	}
	if tlsCfg != nil {
		opts = append(opts, nats.Secure(tlsCfg))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, fmt.Errorf("connecting to NATS at %s: %w", url, err)
	}
	return nc, nil
}

func runControl(parent context.Context, f controlFlags) error {
	logger, err := newLogger(os.Stderr, f.logFormat)
	if err != nil {
		return usageError{err}
	}
	slog.SetDefault(logger)
	if f.heartbeatTimeout < time.Second {
		return usageError{fmt.Errorf("--heartbeat-timeout %s: want at least 1s", f.heartbeatTimeout)}
	}
	serverTLS, err := f.tls.serverConfig()
	if err != nil {
		return usageError{err}
	}
	clientTLS, err := f.tls.clientConfig()
	if err != nil {
		return usageError{err}
	}
	if err := os.MkdirAll(f.dataDir, 0o755); err != nil {
		return fmt.Errorf("creating data directory: %w", err)
	}
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()

	nc, err := connectNATS(f.natsURL, "weir-control", natsTLS(f.natsURL, clientTLS), logger)
	if err != nil {
		return err
	}
	defer nc.Close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ctl, err := control.New(ctx, control.Options{
		CacheDir:         filepath.Join(f.dataDir, "wasm-cache"),
		HeartbeatTimeout: f.heartbeatTimeout,
	}, nc, logger.With("component", "control"), reg)
	if err != nil {
		return err
	}

	grpcLn, err := net.Listen("tcp", f.grpcAddr)
	if err != nil {
		_ = ctl.Close(context.Background())
		return fmt.Errorf("listening on --grpc %s: %w", f.grpcAddr, err)
	}
	gopts := control.GRPCServerOptions()
	if serverTLS != nil {
		gopts = append(gopts, grpc.Creds(credentials.NewTLS(serverTLS)))
	}
	gs := grpc.NewServer(gopts...)
	ctl.RegisterGRPC(gs)
	grpcDone := make(chan error, 1)
	go func() { grpcDone <- gs.Serve(grpcLn) }()
	logger.Info("gRPC listening for workers", "grpc", grpcLn.Addr().String(), "tls", serverTLS != nil)

	httpLn, err := net.Listen("tcp", f.httpAddr)
	if err != nil {
		gs.Stop()
		_ = ctl.Close(context.Background())
		return fmt.Errorf("listening on --http %s: %w", f.httpAddr, err)
	}
	srv := &http.Server{Handler: ctl.Handler(), ReadHeaderTimeout: 10 * time.Second}
	httpDone := make(chan error, 1)
	go func() { httpDone <- srv.Serve(httpLn) }()
	logger.Info("REST API and web UI listening", "http", "http://"+httpLn.Addr().String())
	logger.Info("weir control ready", "nats", nc.ConnectedUrl())

	select {
	case <-ctx.Done():
		logger.Info("shutting down")
	case err := <-httpDone:
		logger.Error("HTTP server stopped", "err", err)
	case err := <-grpcDone:
		logger.Error("gRPC server stopped", "err", err)
	}
	// Stop order: no new requests; jobs suspend gracefully on their workers (which
	// still reach us over gRPC); then the gRPC server.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdownCtx)
	if err := ctl.Close(shutdownCtx); err != nil {
		logger.Warn("closing the control plane", "err", err)
	}
	gs.Stop()
	logger.Info("stopped")
	return nil
}

// natsTLS returns the TLS configuration for NATS: the --tls-* flags apply to NATS
// too when its URLs use the tls:// scheme.
func natsTLS(urls string, cfg *tls.Config) *tls.Config {
	if strings.Contains(urls, "tls://") {
		return cfg
	}
	return nil
}

func runWorker(parent context.Context, f workerFlags) error {
	logger, err := newLogger(os.Stderr, f.logFormat)
	if err != nil {
		return usageError{err}
	}
	slog.SetDefault(logger)
	if f.slots < 1 {
		return usageError{fmt.Errorf("--slots %d: want at least 1", f.slots)}
	}
	clientTLS, err := f.tls.clientConfig()
	if err != nil {
		return usageError{err}
	}
	if f.id == "" {
		host, _ := os.Hostname()
		f.id = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if err := os.MkdirAll(f.dataDir, 0o755); err != nil {
		return fmt.Errorf("creating data directory: %w", err)
	}
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()

	// Four connections: sinks and metadata; sources; exchange frames; credit
	// grants, so that grants never queue behind bulk data and a sink's publishes
	// never hold up a consumer's deliveries.
	var conns [4]*nats.Conn
	for i, role := range []string{"", "-sources", "-data", "-credit"} {
		c, err := connectNATS(f.natsURL, "weir-worker-"+f.id+role, natsTLS(f.natsURL, clientTLS), logger)
		if err != nil {
			return err
		}
		defer c.Close()
		conns[i] = c
	}
	nc := conns[0]
	var creds credentials.TransportCredentials
	if clientTLS != nil {
		creds = credentials.NewTLS(clientTLS)
	}
	rc, err := worker.DialControl(f.controlAddr, creds, logger.With("component", "session"))
	if err != nil {
		return usageError{err}
	}
	wk, err := worker.New(ctx, worker.Options{ID: f.id, Slots: f.slots, DataDir: f.dataDir, Address: workerAddress(), SourceConn: conns[1], DataConn: conns[2], CreditConn: conns[3]}, nc, rc, logger.With("component", "worker"))
	if err != nil {
		return err
	}
	logger.Info("weir worker starting", "id", f.id, "control", f.controlAddr, "nats", nc.ConnectedUrl(), "slots", f.slots)
	err = wk.Run(ctx)
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	logger.Info("stopped")
	return err
}

func workerAddress() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s pid %d", host, os.Getpid())
}
