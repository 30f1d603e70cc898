package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"

	"github.com/weir-streams/weir/internal/api"
	"github.com/weir-streams/weir/internal/api/pb"
	"github.com/weir-streams/weir/internal/jobgraph"
)

// RemoteControl is the control plane on the far side of a gRPC connection; it
// implements api.ControlPlane for a worker in its own process. After a successful
// registration it keeps the worker's session alive: when the session breaks, the
// worker's tasks are canceled (the control plane restarts them elsewhere) and the
// worker registers again until Close.
type RemoteControl struct {
	addr   string
	conn   *grpc.ClientConn
	client pb.ControlPlaneClient
	logger *slog.Logger
	// RegisterTimeout bounds each registration attempt. Default 10s.
	registerTimeout time.Duration

	sendMu sync.Mutex // serializes sends on stream

	mu     sync.Mutex
	stream pb.ControlPlane_SessionClient // guarded by mu; nil while disconnected
	cancel context.CancelFunc            // ends the session supervisor; guarded by mu
	done   chan struct{}                 // closed when the supervisor ends; guarded by mu
}

// DialControl prepares a connection to the control plane's gRPC address; creds nil
// means plaintext. The connection is made by the first registration.
func DialControl(addr string, creds credentials.TransportCredentials, logger *slog.Logger) (*RemoteControl, error) {
	if creds == nil {
		creds = insecure.NewCredentials()
	}
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(creds),
		// Pings every 20s: more rarely than the server's 10s minimum (control.GRPCServerOptions).
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 20 * time.Second, Timeout: 10 * time.Second, PermitWithoutStream: true}),
	)
	if err != nil {
		return nil, fmt.Errorf("control address %q: %w", addr, err)
	}
	return &RemoteControl{addr: addr, conn: conn, client: pb.NewControlPlaneClient(conn), logger: logger, registerTimeout: 10 * time.Second}, nil
}

// controlLostHandler is told when the session to the control plane breaks.
type controlLostHandler interface{ controlLost() }

// RegisterWorker implements api.ControlPlane: it registers within ctx's deadline
// (or 10s), opens the session and starts answering the control plane's requests.
func (r *RemoteControl) RegisterWorker(ctx context.Context, req api.RegisterWorker, w api.Worker) error {
	if err := r.connect(ctx, req, w); err != nil {
		return err
	}
	sctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	r.mu.Lock()
	r.cancel, r.done = cancel, done
	r.mu.Unlock()
	go func() {
		defer close(done)
		r.supervise(sctx, req, w)
	}()
	return nil
}

// connect registers and opens a session.
func (r *RemoteControl) connect(ctx context.Context, req api.RegisterWorker, w api.Worker) error {
	rctx, cancel := context.WithTimeout(ctx, r.registerTimeout)
	defer cancel()
	_, err := r.client.Register(rctx, &pb.RegisterRequest{WorkerId: req.WorkerID, Slots: int32(req.Slots), Address: req.Address, Version: api.ProtocolVersion})
	if err != nil {
		return fmt.Errorf("control plane at %s: %w", r.addr, err)
	}
	stream, err := r.client.Session(context.Background())
	if err != nil {
		return fmt.Errorf("opening a session with the control plane at %s: %w", r.addr, err)
	}
	if err := stream.Send(&pb.WorkerMessage{Msg: &pb.WorkerMessage_Hello{Hello: &pb.Hello{WorkerId: req.WorkerID}}}); err != nil {
		return fmt.Errorf("opening a session with the control plane at %s: %w", r.addr, err)
	}
	r.mu.Lock()
	r.stream = stream
	r.mu.Unlock()
	return nil
}

// supervise serves the session and, when it breaks, cancels the worker's tasks and
// registers again, until ctx ends.
func (r *RemoteControl) supervise(ctx context.Context, req api.RegisterWorker, w api.Worker) {
	for {
		r.mu.Lock()
		stream := r.stream
		r.mu.Unlock()
		err := r.serve(ctx, stream, w)
		r.mu.Lock()
		r.stream = nil
		r.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
		r.logger.Warn("session with the control plane ended; canceling tasks and registering again", "err", err)
		if h, ok := w.(controlLostHandler); ok {
			h.controlLost()
		}
		backoff := 100 * time.Millisecond
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			if err := r.connect(ctx, req, w); err == nil {
				r.logger.Info("registered with the control plane again")
				break
			} else {
				r.logger.Warn("registering again", "err", err)
			}
			backoff = min(2*backoff, 5*time.Second)
		}
	}
}

// serve answers the control plane's requests until the stream ends.
func (r *RemoteControl) serve(ctx context.Context, stream pb.ControlPlane_SessionClient, w api.Worker) error {
	go func() {
		<-ctx.Done()
		_ = stream.CloseSend()
	}()
	for {
		msg, err := stream.Recv()
		if err != nil {
			return err
		}
		var callErr error
		switch m := msg.Msg.(type) {
		case *pb.ControlMessage_Deploy:
			var desc jobgraph.TaskDescriptor
			if err := json.Unmarshal(m.Deploy.DescriptorJson, &desc); err != nil {
				callErr = fmt.Errorf("decoding task descriptor: %w", err)
			} else {
				callErr = w.DeployTask(ctx, desc)
			}
		case *pb.ControlMessage_StopJob:
			callErr = w.StopJob(ctx, m.StopJob.JobId, m.StopJob.Attempt, m.StopJob.Graceful)
		case *pb.ControlMessage_Checkpoint:
			callErr = w.Checkpoint(ctx, api.CheckpointEventFromPB(m.Checkpoint))
		default:
			callErr = fmt.Errorf("unknown request %T", msg.Msg)
		}
		reply := &pb.Reply{RequestId: msg.RequestId}
		if callErr != nil {
			reply.Error = callErr.Error()
		}
		if err := r.send(&pb.WorkerMessage{Msg: &pb.WorkerMessage_Reply{Reply: reply}}); err != nil {
			return err
		}
	}
}

var errDisconnected = errors.New("worker: not connected to the control plane")

func (r *RemoteControl) send(msg *pb.WorkerMessage) error {
	r.mu.Lock()
	stream := r.stream
	r.mu.Unlock()
	if stream == nil {
		return errDisconnected
	}
	r.sendMu.Lock()
	defer r.sendMu.Unlock()
	return stream.Send(msg)
}

// UnregisterWorker implements api.ControlPlane: it ends the session (the control
// plane then knows the worker is gone) and closes the connection.
func (r *RemoteControl) UnregisterWorker(context.Context, string) error {
	r.mu.Lock()
	cancel, done := r.cancel, r.done
	r.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	return r.conn.Close()
}

// ReportTaskState implements api.ControlPlane.
func (r *RemoteControl) ReportTaskState(_ context.Context, s api.TaskState) error {
	return r.send(&pb.WorkerMessage{Msg: &pb.WorkerMessage_TaskState{TaskState: api.TaskStateToPB(s)}})
}

// ReportProgress implements api.ControlPlane.
func (r *RemoteControl) ReportProgress(_ context.Context, p api.Progress) error {
	return r.send(&pb.WorkerMessage{Msg: &pb.WorkerMessage_Progress{Progress: api.ProgressToPB(p)}})
}

// Heartbeat implements api.ControlPlane.
func (r *RemoteControl) Heartbeat(_ context.Context, hb api.Heartbeat) error {
	return r.send(&pb.WorkerMessage{Msg: &pb.WorkerMessage_Heartbeat{Heartbeat: api.HeartbeatToPB(hb)}})
}

// AckCheckpoint implements api.ControlPlane.
func (r *RemoteControl) AckCheckpoint(_ context.Context, ack api.CheckpointAck) error {
	b, err := json.Marshal(ack)
	if err != nil {
		return fmt.Errorf("encoding a checkpoint ack: %w", err)
	}
	return r.send(&pb.WorkerMessage{Msg: &pb.WorkerMessage_CheckpointAck{CheckpointAck: &pb.CheckpointAck{AckJson: b}}})
}
