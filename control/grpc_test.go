package control_test

import (
	"context"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/weir-streams/weir/control"
	"github.com/weir-streams/weir/internal/api"
	"github.com/weir-streams/weir/internal/api/pb"
	"github.com/weir-streams/weir/internal/embednats"
)

// grpcControl starts a control plane serving gRPC on loopback, with a short
// heartbeat timeout, and returns a raw client of its service.
func grpcControl(t *testing.T) (*control.Control, pb.ControlPlaneClient) {
	t.Helper()
	ns, err := embednats.Start(embednats.Options{Dir: t.TempDir(), Port: -1})
	require.NoError(t, err)
	t.Cleanup(ns.Shutdown)
	nc, err := embednats.Connect(ns, "control")
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	ctl, err := control.New(context.Background(), control.Options{
		CacheDir: os.Getenv("WEIR_TEST_WASM_CACHE"), HeartbeatInterval: 100 * time.Millisecond, HeartbeatTimeout: time.Second,
	}, nc, logger, prometheus.NewRegistry())
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	gs := grpc.NewServer(control.GRPCServerOptions()...)
	ctl.RegisterGRPC(gs)
	go func() { _ = gs.Serve(ln) }()
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = conn.Close()
		gs.Stop()
		require.NoError(t, ctl.Close(context.Background()))
	})
	return ctl, pb.NewControlPlaneClient(conn)
}

func TestRegisterRefusesBadRegistrations(t *testing.T) {
	_, cp := grpcControl(t)
	ctx := context.Background()
	for _, c := range []struct {
		req  *pb.RegisterRequest
		code codes.Code
		msg  string
	}{
		{&pb.RegisterRequest{Slots: 1, Version: api.ProtocolVersion}, codes.InvalidArgument, "a worker needs an id"},
		{&pb.RegisterRequest{WorkerId: "w", Slots: 0, Version: api.ProtocolVersion}, codes.InvalidArgument, "offers 0 slots"},
		{&pb.RegisterRequest{WorkerId: "w", Slots: 1, Version: "weir/0"}, codes.FailedPrecondition, `speaks protocol "weir/0"`},
	} {
		_, err := cp.Register(ctx, c.req)
		require.Equal(t, c.code, status.Code(err), "%v", err)
		require.Contains(t, err.Error(), c.msg)
	}
	// A session needs a registration first.
	s, err := cp.Session(ctx)
	require.NoError(t, err)
	require.NoError(t, s.Send(&pb.WorkerMessage{Msg: &pb.WorkerMessage_Hello{Hello: &pb.Hello{WorkerId: "ghost"}}}))
	_, err = s.Recv()
	require.Equal(t, codes.FailedPrecondition, status.Code(err), "%v", err)
}

// TestSilentWorkerIsLost: a worker that registers, opens its session and then
// sends no heartbeat is lost after the heartbeat timeout; while it lives, its id
// cannot be taken by another.
func TestSilentWorkerIsLost(t *testing.T) {
	ctl, cp := grpcControl(t)
	ctx := context.Background()
	_, err := cp.Register(ctx, &pb.RegisterRequest{WorkerId: "w1", Slots: 2, Address: "here", Version: api.ProtocolVersion})
	require.NoError(t, err)
	s, err := cp.Session(ctx)
	require.NoError(t, err)
	require.NoError(t, s.Send(&pb.WorkerMessage{Msg: &pb.WorkerMessage_Hello{Hello: &pb.Hello{WorkerId: "w1"}}}))
	require.Eventually(t, func() bool { return len(ctl.Workers()) == 1 }, 10*time.Second, 20*time.Millisecond)
	require.Equal(t, "here", ctl.Workers()[0].Address)

	_, err = cp.Register(ctx, &pb.RegisterRequest{WorkerId: "w1", Slots: 2, Version: api.ProtocolVersion})
	require.Equal(t, codes.AlreadyExists, status.Code(err), "%v", err)

	start := time.Now()
	_, err = s.Recv()
	require.Equal(t, codes.DeadlineExceeded, status.Code(err), "%v", err)
	require.Contains(t, err.Error(), "no heartbeat")
	require.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond)
	require.Empty(t, ctl.Workers(), "a lost worker stays registered")
}
