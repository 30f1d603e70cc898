package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"

	"github.com/weir-streams/weir/internal/api"
	"github.com/weir-streams/weir/internal/api/pb"
	"github.com/weir-streams/weir/internal/jobgraph"
)

// GRPCServerOptions are the keepalive settings the control plane's gRPC server
// uses; workers ping every 20s, more rarely than the 10s the server tolerates.
func GRPCServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 20 * time.Second, Timeout: 10 * time.Second}),
	}
}

// RegisterGRPC adds the control plane's service, which remote workers call, to s.
func (c *Control) RegisterGRPC(s *grpc.Server) {
	pb.RegisterControlPlaneServer(s, &grpcService{c: c, pending: map[string]*pb.RegisterRequest{}})
}

// grpcService serves remote workers: Register, then one Session stream each.
type grpcService struct {
	pb.UnimplementedControlPlaneServer
	c *Control

	mu      sync.Mutex
	pending map[string]*pb.RegisterRequest // registered, no session yet; guarded by mu
}

func (g *grpcService) Register(_ context.Context, req *pb.RegisterRequest) (*pb.RegisterResponse, error) {
	switch {
	case req.WorkerId == "":
		return nil, status.Error(codes.InvalidArgument, "a worker needs an id")
	case req.Slots < 1:
		return nil, status.Errorf(codes.InvalidArgument, "worker %s offers %d slots; it needs at least 1", req.WorkerId, req.Slots)
	case req.Version != api.ProtocolVersion:
		return nil, status.Errorf(codes.FailedPrecondition, "worker %s speaks protocol %q; this control plane speaks %q", req.WorkerId, req.Version, api.ProtocolVersion)
	case g.c.slots.has(req.WorkerId):
		return nil, status.Errorf(codes.AlreadyExists, "a live worker is already registered as %s", req.WorkerId)
	}
	g.mu.Lock()
	g.pending[req.WorkerId] = req
	g.mu.Unlock()
	return &pb.RegisterResponse{
		HeartbeatIntervalMs: g.c.opts.HeartbeatInterval.Milliseconds(),
		HeartbeatTimeoutMs:  g.c.opts.HeartbeatTimeout.Milliseconds(),
	}, nil
}

func (g *grpcService) Session(stream pb.ControlPlane_SessionServer) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	id := first.GetHello().GetWorkerId()
	g.mu.Lock()
	req, ok := g.pending[id]
	delete(g.pending, id)
	g.mu.Unlock()
	if !ok {
		return status.Errorf(codes.FailedPrecondition, "worker %q opened a session without registering first", id)
	}
	rw := &remoteWorker{id: id, stream: stream, replies: map[uint64]chan string{}, done: make(chan struct{})}
	defer rw.close()
	ctx := stream.Context()
	reg := api.RegisterWorker{WorkerID: id, Slots: int(req.Slots), Address: req.Address}
	if err := g.c.RegisterWorker(ctx, reg, rw); err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	logger := g.c.logger.With("worker", id)
	recvErr := make(chan error, 1)
	go func() { recvErr <- g.recv(id, rw, stream) }()
	watch := time.NewTicker(g.c.opts.HeartbeatInterval)
	defer watch.Stop()
	for {
		select {
		case err := <-recvErr:
			logger.Warn("worker lost: its session ended", "err", err)
			g.c.workerLost(id, fmt.Sprintf("worker %s was lost: its connection to the control plane ended", id))
			return nil
		case <-watch.C:
			if since := time.Since(g.c.slots.lastHeartbeat(id)); since > g.c.opts.HeartbeatTimeout {
				logger.Warn("worker lost: no heartbeat", "since", since.Round(time.Millisecond))
				g.c.workerLost(id, fmt.Sprintf("worker %s was lost: no heartbeat for %s (--heartbeat-timeout %s)", id, since.Round(time.Second), g.c.opts.HeartbeatTimeout))
				return status.Errorf(codes.DeadlineExceeded, "no heartbeat for %s", since.Round(time.Millisecond))
			}
		case <-ctx.Done():
			g.c.workerLost(id, fmt.Sprintf("worker %s was lost: its connection to the control plane ended", id))
			return nil
		}
	}
}

// recv applies a worker's messages until its stream ends.
func (g *grpcService) recv(id string, rw *remoteWorker, stream pb.ControlPlane_SessionServer) error {
	ctx := stream.Context()
	for {
		msg, err := stream.Recv()
		if err != nil {
			return err
		}
		switch m := msg.Msg.(type) {
		case *pb.WorkerMessage_TaskState:
			_ = g.c.ReportTaskState(ctx, api.TaskStateFromPB(id, m.TaskState))
		case *pb.WorkerMessage_Progress:
			_ = g.c.ReportProgress(ctx, api.ProgressFromPB(m.Progress))
		case *pb.WorkerMessage_Heartbeat:
			_ = g.c.Heartbeat(ctx, api.HeartbeatFromPB(id, m.Heartbeat))
		case *pb.WorkerMessage_Reply:
			rw.reply(m.Reply)
		case *pb.WorkerMessage_CheckpointAck:
			var ack api.CheckpointAck
			if err := json.Unmarshal(m.CheckpointAck.AckJson, &ack); err != nil {
				g.c.logger.Warn("decoding a checkpoint ack", "worker", id, "err", err)
				continue
			}
			_ = g.c.AckCheckpoint(ctx, ack)
		}
	}
}

// remoteWorker is a worker on the far side of a Session stream.
type remoteWorker struct {
	id     string
	stream pb.ControlPlane_SessionServer
	nextID atomic.Uint64

	sendMu sync.Mutex // serializes stream.Send

	mu      sync.Mutex
	replies map[uint64]chan string // awaited replies; guarded by mu
	done    chan struct{}          // closed when the session ends
	closed  bool                   // guarded by mu
}

var errWorkerGone = errors.New("control: worker session ended")

func (r *remoteWorker) call(ctx context.Context, msg *pb.ControlMessage) error {
	msg.RequestId = r.nextID.Add(1)
	ch := make(chan string, 1)
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return errWorkerGone
	}
	r.replies[msg.RequestId] = ch
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.replies, msg.RequestId)
		r.mu.Unlock()
	}()
	r.sendMu.Lock()
	err := r.stream.Send(msg)
	r.sendMu.Unlock()
	if err != nil {
		return fmt.Errorf("sending to worker %s: %w", r.id, err)
	}
	select {
	case e := <-ch:
		if e != "" {
			return errors.New(e)
		}
		return nil
	case <-r.done:
		return errWorkerGone
	case <-ctx.Done():
		return fmt.Errorf("waiting for worker %s: %w", r.id, ctx.Err())
	}
}

func (r *remoteWorker) reply(m *pb.Reply) {
	r.mu.Lock()
	ch := r.replies[m.RequestId]
	r.mu.Unlock()
	if ch != nil {
		ch <- m.Error
	}
}

func (r *remoteWorker) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		r.closed = true
		close(r.done)
	}
}

// DeployTask implements api.Worker.
func (r *remoteWorker) DeployTask(ctx context.Context, desc jobgraph.TaskDescriptor) error {
	b, err := json.Marshal(desc)
	if err != nil {
		return fmt.Errorf("encoding descriptor: %w", err)
	}
	return r.call(ctx, &pb.ControlMessage{Msg: &pb.ControlMessage_Deploy{Deploy: &pb.DeployTask{DescriptorJson: b}}})
}

// StopJob implements api.Worker.
func (r *remoteWorker) StopJob(ctx context.Context, jobID string, attempt uint64, graceful bool) error {
	return r.call(ctx, &pb.ControlMessage{Msg: &pb.ControlMessage_StopJob{StopJob: &pb.StopJob{JobId: jobID, Attempt: attempt, Graceful: graceful}}})
}

// Checkpoint implements api.Worker.
func (r *remoteWorker) Checkpoint(ctx context.Context, ev api.CheckpointEvent) error {
	return r.call(ctx, &pb.ControlMessage{Msg: &pb.ControlMessage_Checkpoint{Checkpoint: api.CheckpointEventToPB(ev)}})
}
