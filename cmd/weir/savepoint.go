package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/weir-streams/weir/internal/client"
)

// savepointPollInterval is how often --wait asks the server how a savepoint is
// doing. It is a variable so that tests need not wait half a second per poll.
var savepointPollInterval = 500 * time.Millisecond

// newSavepointCmd returns `weir savepoint` and its subcommands. *server is the REST
// API's base URL, read when a subcommand runs (after flags are parsed).
func newSavepointCmd(server *string) *cobra.Command {
	out := outputTable
	cmd := newGroupCmd(&cobra.Command{
		Use:   "savepoint",
		Short: "List, inspect and delete savepoints",
		Long: "Manage savepoints: snapshots of a job's state, taken on request, that outlive the job.\n\n" +
			"`weir job savepoint`, `weir job stop --savepoint` and `weir job rescale` take them.",
	}, &out)
	cmd.AddCommand(
		newSavepointListCmd(server, &out),
		newSavepointGetCmd(server, &out),
		newSavepointRmCmd(server, &out),
	)
	return finishGroup(cmd)
}

func newSavepointListCmd(server *string, out *outputFormat) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List savepoints of every job, newest first",
		Args:    argsNamed(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := newClient(*server).Savepoints(cmd.Context())
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if *out == outputJSON {
				return printJSON(w, l.Raw)
			}
			if len(l.Savepoints) == 0 {
				fmt.Fprintln(w, "No savepoints.")
				return nil
			}
			sps := slices.Clone(l.Savepoints)
			slices.SortStableFunc(sps, func(a, b client.Savepoint) int {
				if c := b.Created.Compare(a.Created); c != 0 {
					return c
				}
				return cmp.Compare(a.ID, b.ID)
			})
			tw := newTable(w)
			fmt.Fprintln(tw, "ID\tJOB\tNAME\tSTATUS\tCREATED\tSIZE\tCHECKPOINT\tERROR")
			for _, s := range sps {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.JobID, s.JobName, s.Status,
					formatTime(s.Created), humanBytes(s.Size), formatCheckpointID(s.Checkpoint), firstLine(s.Error))
			}
			return tw.Flush()
		},
	}
}

func newSavepointGetCmd(server *string, out *outputFormat) *cobra.Command {
	return &cobra.Command{
		Use:   "get ID",
		Short: "Show a savepoint: its job, status, size and checkpoint",
		Args:  argsNamed("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := newClient(*server).Savepoint(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if *out == outputJSON {
				return printJSON(w, s.Raw)
			}
			return printSavepoint(w, s)
		},
	}
}

func newSavepointRmCmd(server *string, out *outputFormat) *cobra.Command {
	return &cobra.Command{
		Use:     "rm ID",
		Aliases: []string{"delete"},
		Short:   "Delete a savepoint (refused while it is in progress)",
		Long: "Delete a savepoint's files and its record. The server refuses while it is IN_PROGRESS.\n" +
			"With -o json nothing is printed on success: the server's reply has no body.",
		Args: argsNamed("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := newClient(*server).DeleteSavepoint(cmd.Context(), args[0]); err != nil {
				return err
			}
			if *out == outputTable {
				fmt.Fprintf(cmd.OutOrStdout(), "Deleted savepoint %s\n", args[0])
			}
			return nil
		},
	}
}

// printSavepoint writes one savepoint as `weir savepoint get` shows it.
func printSavepoint(w io.Writer, s *client.Savepoint) error {
	tw := newTable(w)
	fmt.Fprintf(tw, "ID:\t%s\n", s.ID)
	fmt.Fprintf(tw, "Job:\t%s (%s)\n", s.JobID, s.JobName)
	fmt.Fprintf(tw, "Status:\t%s\n", s.Status)
	if s.Error != "" {
		fmt.Fprintf(tw, "Error:\t%s\n", s.Error)
	}
	fmt.Fprintf(tw, "Created:\t%s\n", formatTime(s.Created))
	fmt.Fprintf(tw, "Completed:\t%s\n", formatTime(s.Completed))
	fmt.Fprintf(tw, "Size:\t%s\n", humanBytes(s.Size))
	fmt.Fprintf(tw, "Checkpoint:\t%s\n", formatCheckpointID(s.Checkpoint))
	return tw.Flush()
}

func newJobSavepointCmd(server *string, out *outputFormat) *cobra.Command {
	var wait savepointWait
	cmd := &cobra.Command{
		Use:   "savepoint ID",
		Short: "Take a savepoint of a running job",
		Long: "Ask the server for a savepoint of a running job and print its id. The job keeps running.\n" +
			"The savepoint completes in the background; with --wait the command waits until it is\n" +
			"COMPLETED (and prints its size and checkpoint) or FAILED (and exits 1 with its error).\n" +
			"The server refuses a job that is not RUNNING or takes no checkpoints.",
		Example: "  weir job savepoint j-1\n  weir job savepoint j-1 --wait --timeout 2m",
		Args:    argsNamed("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := wait.check(cmd); err != nil {
				return err
			}
			c := newClient(*server)
			id, err := c.TriggerSavepoint(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return wait.report(cmd, c, *out, id, "id", fmt.Sprintf("Triggered savepoint %s for job %s", id, args[0]))
		},
	}
	wait.addFlags(cmd)
	return cmd
}

func newJobStopCmd(server *string, out *outputFormat) *cobra.Command {
	var wait savepointWait
	var savepoint, drain bool
	cmd := &cobra.Command{
		Use:   "stop ID --savepoint [--drain]",
		Short: "Stop a job with a savepoint",
		Long: "Stop a running job with a savepoint: its sources end after the savepoint's barrier, so\n" +
			"nothing is processed past it, and the job ends FINISHED. Prints the savepoint's id; with\n" +
			"--wait the command waits until the savepoint is COMPLETED or FAILED (exit 1).\n" +
			"With --drain, event time first advances to its end, so that every open window fires\n" +
			"and its results are in the output before the job ends (for a job that will not resume).\n" +
			"To stop a job without a savepoint, cancel it: `weir job cancel ID`.",
		Example: "  weir job stop j-1 --savepoint\n  weir job stop j-1 --savepoint --wait\n  weir job stop j-1 --savepoint --drain",
		Args:    argsNamed("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !savepoint {
				return usageErrorf(cmd, "stopping without a savepoint is a cancel: use 'weir job cancel %s', or add --savepoint", args[0])
			}
			if err := wait.check(cmd); err != nil {
				return err
			}
			c := newClient(*server)
			id, err := c.StopJob(cmd.Context(), args[0], true, drain)
			if err != nil {
				return err
			}
			return wait.report(cmd, c, *out, id, "savepoint", fmt.Sprintf("Stopping job %s with savepoint %s", args[0], id))
		},
	}
	cmd.Flags().BoolVar(&savepoint, "savepoint", false, "take a savepoint, then end the job FINISHED (required)")
	cmd.Flags().BoolVar(&drain, "drain", false, "advance event time to its end first, firing every open window")
	wait.addFlags(cmd)
	return cmd
}

func newJobRescaleCmd(server *string, out *outputFormat) *cobra.Command {
	var wait savepointWait
	var parallelism int
	var stepFlags []string
	cmd := &cobra.Command{
		Use:   "rescale ID (--parallelism N | --step STEP=N ...)",
		Short: "Run a job at a new parallelism, through a savepoint",
		Long: "Rescale a running job: the server stops it with a savepoint, then runs it again, with\n" +
			"the same id, at the new parallelism, restored from the savepoint. --parallelism sets it\n" +
			"for every step; --step, repeated, sets it for the named steps only. Prints the\n" +
			"savepoint's id; with --wait the command waits until the savepoint is COMPLETED or FAILED\n" +
			"(exit 1). A parallelism may not exceed the job's max_parallelism.",
		Example: "  weir job rescale j-1 --parallelism 8\n  weir job rescale j-1 --step parse=4 --step counts=2 --wait",
		Args:    argsNamed("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			hasP, hasSteps := cmd.Flags().Changed("parallelism"), len(stepFlags) > 0
			switch {
			case hasP && hasSteps:
				return usageErrorf(cmd, "give --parallelism or --step, not both")
			case !hasP && !hasSteps:
				return usageErrorf(cmd, "give the new parallelism: --parallelism N, or --step STEP=N for each step to change")
			case hasP && parallelism < 1:
				return usageErrorf(cmd, "--parallelism must be at least 1, got %d", parallelism)
			}
			steps, err := parseStepFlags(cmd, stepFlags)
			if err != nil {
				return err
			}
			if err := wait.check(cmd); err != nil {
				return err
			}
			c := newClient(*server)
			id, err := c.RescaleJob(cmd.Context(), args[0], parallelism, steps)
			if err != nil {
				return err
			}
			return wait.report(cmd, c, *out, id, "savepoint", fmt.Sprintf("Rescaling job %s through savepoint %s", args[0], id))
		},
	}
	cmd.Flags().IntVar(&parallelism, "parallelism", 0, "the new parallelism of every step")
	cmd.Flags().StringArrayVar(&stepFlags, "step", nil, "STEP=N: the new parallelism of the step with id STEP (repeatable)")
	wait.addFlags(cmd)
	return cmd
}

// parseStepFlags turns --step values, "parse=4", into step id -> parallelism; nil
// for none.
func parseStepFlags(cmd *cobra.Command, flags []string) (map[string]int, error) {
	if len(flags) == 0 {
		return nil, nil
	}
	steps := make(map[string]int, len(flags))
	for _, f := range flags {
		id, n, ok := strings.Cut(f, "=")
		id = strings.TrimSpace(id)
		if !ok || id == "" {
			return nil, usageErrorf(cmd, "--step %q: want STEP=N, a step id and its parallelism", f)
		}
		p, err := strconv.Atoi(strings.TrimSpace(n))
		if err != nil || p < 1 {
			return nil, usageErrorf(cmd, "--step %q: the parallelism must be a whole number of at least 1", f)
		}
		if _, dup := steps[id]; dup {
			return nil, usageErrorf(cmd, "--step %q: step %s is given twice", f, id)
		}
		steps[id] = p
	}
	return steps, nil
}

// savepointWait holds the --wait and --timeout flags of the commands that take a
// savepoint, and waits for it.
type savepointWait struct {
	wait    bool
	timeout time.Duration
}

func (sw *savepointWait) addFlags(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&sw.wait, "wait", false, "wait until the savepoint is COMPLETED or FAILED")
	cmd.Flags().DurationVar(&sw.timeout, "timeout", 10*time.Minute, "how long --wait waits before giving up")
}

// check rejects a --timeout that --wait could not honour, before anything is sent.
func (sw *savepointWait) check(cmd *cobra.Command) error {
	if sw.wait && sw.timeout <= 0 {
		return usageErrorf(cmd, "--timeout must be positive, got %s", sw.timeout)
	}
	return nil
}

// report prints the accepted request, id being the savepoint it names: msg for a
// table, or {key: id} as the server sent it for -o json. With --wait it then waits
// for the savepoint and prints how it ended instead (for -o json only the savepoint
// as GET /savepoints/{id} shows it, so the output stays one JSON document); FAILED
// is an error.
func (sw *savepointWait) report(cmd *cobra.Command, c *client.Client, out outputFormat, id, key, msg string) error {
	w := cmd.OutOrStdout()
	if out == outputTable {
		fmt.Fprintln(w, msg)
	} else if !sw.wait {
		// The client returns the id alone; this is the server's reply rebuilt.
		b, err := json.Marshal(map[string]string{key: id})
		if err != nil {
			return err
		}
		return printJSON(w, b)
	}
	if !sw.wait {
		return nil
	}
	s, err := waitSavepoint(cmd.Context(), c, id, sw.timeout)
	if err != nil {
		return err
	}
	if out == outputJSON {
		if err := printJSON(w, s.Raw); err != nil {
			return err
		}
	} else if s.Status == client.SavepointCompleted {
		fmt.Fprintf(w, "Savepoint %s completed: %s, checkpoint %s\n", s.ID, humanBytes(s.Size), formatCheckpointID(s.Checkpoint))
	}
	if s.Status == client.SavepointFailed {
		return fmt.Errorf("savepoint %s failed: %s", s.ID, cmp.Or(s.Error, "the server gave no reason"))
	}
	return nil
}

// waitSavepoint polls the savepoint every savepointPollInterval until it is COMPLETED
// or FAILED, or timeout has passed. An error from the server ends the wait: the
// savepoint is listed as soon as it is triggered, so a 404 will not turn into a
// savepoint later.
func waitSavepoint(ctx context.Context, c *client.Client, id string, timeout time.Duration) (*client.Savepoint, error) {
	waitCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(savepointPollInterval)
	defer tick.Stop()
	status := "not yet known"
	for {
		s, err := c.Savepoint(waitCtx, id)
		switch {
		case err == nil && s.Done():
			return s, nil
		case err == nil:
			status = s.Status
		case waitCtx.Err() == nil:
			return nil, fmt.Errorf("waiting for savepoint %s: %w", id, err)
		}
		select {
		case <-waitCtx.Done():
			if ctx.Err() != nil {
				return nil, fmt.Errorf("waiting for savepoint %s: %w", id, ctx.Err())
			}
			return nil, fmt.Errorf("gave up waiting for savepoint %s after %s: it is %s; 'weir savepoint get %s' shows how it ends", id, timeout, status, id)
		case <-tick.C:
		}
	}
}

// formatCheckpointID shows a checkpoint id, "-" for none (0).
func formatCheckpointID(id uint64) string {
	if id == 0 {
		return "-"
	}
	return strconv.FormatUint(id, 10)
}
