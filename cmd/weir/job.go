package main

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/weir-streams/weir/internal/client"
)

// newJobCmd returns `weir job` and its subcommands. *server is the REST API's base
// URL, read when a subcommand runs (after flags are parsed).
func newJobCmd(server *string) *cobra.Command {
	out := outputTable
	cmd := newGroupCmd(&cobra.Command{
		Use:   "job",
		Short: "Submit, list, inspect, stop, rescale and cancel jobs",
	}, &out)
	cmd.AddCommand(
		newJobSubmitCmd(server, &out),
		newJobListCmd(server, &out),
		newJobGetCmd(server, &out),
		newJobCancelCmd(server, &out),
		newJobExceptionsCmd(server, &out),
		newJobCheckpointsCmd(server, &out),
		newJobSavepointCmd(server, &out),
		newJobStopCmd(server, &out),
		newJobRescaleCmd(server, &out),
	)
	return finishGroup(cmd)
}

func newJobSubmitCmd(server *string, out *outputFormat) *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "submit FILE",
		Short: "Submit a job spec (YAML or JSON)",
		Long: "Submit a job spec, YAML or JSON; FILE - reads it from standard input.\n" +
			"With --dry-run the server validates the spec and shows the plan it would run.",
		Example: "  weir job submit clicks.yaml\n  weir job submit --dry-run clicks.yaml\n  generate-spec | weir job submit -",
		Args:    argsNamed("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			spec, err := readSpec(cmd.InOrStdin(), args[0])
			if err != nil {
				return err
			}
			res, err := newClient(*server).SubmitJob(cmd.Context(), spec, dryRun)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if *out == outputJSON {
				return printJSON(w, res.Raw)
			}
			if !dryRun {
				fmt.Fprintf(w, "Submitted job %s\n", res.ID)
				return nil
			}
			fmt.Fprintln(w, "Dry run: the spec is valid; nothing was submitted.")
			fmt.Fprintln(w)
			plan, err := res.ParsePlan()
			if err != nil {
				// A plan of a shape this client does not know is still worth seeing.
				return printJSON(w, res.Plan)
			}
			return printPlan(w, plan)
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "validate the spec and show the plan without running it")
	return cmd
}

func readSpec(stdin io.Reader, path string) ([]byte, error) {
	if path == "-" {
		spec, err := io.ReadAll(stdin)
		if err != nil {
			return nil, fmt.Errorf("reading job spec from standard input: %w", err)
		}
		return spec, nil
	}
	spec, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading job spec: %w", err)
	}
	return spec, nil
}

func newJobListCmd(server *string, out *outputFormat) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List jobs, newest first",
		Args:    argsNamed(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := newClient(*server).ListJobs(cmd.Context())
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if *out == outputJSON {
				return printJSON(w, l.Raw)
			}
			if len(l.Jobs) == 0 {
				fmt.Fprintln(w, "No jobs.")
				return nil
			}
			jobs := slices.Clone(l.Jobs)
			slices.SortStableFunc(jobs, func(a, b client.JobSummary) int {
				if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
					return c
				}
				return cmp.Compare(a.ID, b.ID)
			})
			tw := newTable(w)
			fmt.Fprintln(tw, "ID\tNAME\tSTATUS\tCREATED\tREASON")
			for _, j := range jobs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", j.ID, j.Name, j.Status, formatTime(j.CreatedAt), firstLine(j.Reason))
			}
			return tw.Flush()
		},
	}
}

func newJobGetCmd(server *string, out *outputFormat) *cobra.Command {
	return &cobra.Command{
		Use:   "get ID",
		Short: "Show a job: status, pinned modules, plan and subtasks",
		Long:  "Show a job: status, pinned modules, plan and subtasks. -o json includes the submitted spec.",
		Args:  argsNamed("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			j, err := newClient(*server).GetJob(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if *out == outputJSON {
				return printJSON(w, j.Raw)
			}
			tw := newTable(w)
			fmt.Fprintf(tw, "ID:\t%s\n", j.ID)
			fmt.Fprintf(tw, "Name:\t%s\n", j.Name)
			fmt.Fprintf(tw, "Status:\t%s\n", j.Status)
			if j.Reason != "" {
				fmt.Fprintf(tw, "Reason:\t%s\n", j.Reason)
			}
			fmt.Fprintf(tw, "Created:\t%s\n", formatTime(j.CreatedAt))
			fmt.Fprintf(tw, "Updated:\t%s\n", formatTime(j.UpdatedAt))
			names := make([]string, 0, len(j.Modules))
			for name := range j.Modules {
				names = append(names, name)
			}
			slices.Sort(names)
			for i, name := range names {
				label := ""
				if i == 0 {
					label = "Modules:"
				}
				fmt.Fprintf(tw, "%s\t%s@%s\n", label, name, j.Modules[name])
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if j.Plan == nil {
				return nil
			}
			fmt.Fprintln(w)
			if err := printPlan(w, j.Plan); err != nil {
				return err
			}
			return printSubtasks(w, j.Plan)
		},
	}
}

func newJobCancelCmd(server *string, out *outputFormat) *cobra.Command {
	return &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel a job",
		Long:  "Ask the server to cancel a job. Cancellation is asynchronous: `weir job get ID` shows when it is CANCELED.",
		Args:  argsNamed("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := newClient(*server).CancelJob(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if *out == outputJSON {
				return printJSON(w, res.Raw)
			}
			id := cmp.Or(res.ID, args[0])
			if res.Status == "" {
				fmt.Fprintf(w, "Cancel requested for job %s\n", id)
			} else {
				fmt.Fprintf(w, "Cancel requested for job %s (status %s)\n", id, res.Status)
			}
			return nil
		},
	}
}

func newJobExceptionsCmd(server *string, out *outputFormat) *cobra.Command {
	return &cobra.Command{
		Use:   "exceptions ID",
		Short: "List the failures a job recorded",
		Long:  "List the failures a job recorded, oldest first as the server keeps them. -o json includes the stacks.",
		Args:  argsNamed("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := newClient(*server).JobExceptions(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if *out == outputJSON {
				return printJSON(w, l.Raw)
			}
			if len(l.Exceptions) == 0 {
				fmt.Fprintln(w, "No exceptions.")
				return nil
			}
			tw := newTable(w)
			fmt.Fprintln(tw, "TIME\tTASK\tKIND\tMESSAGE")
			for _, e := range l.Exceptions {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", formatTime(e.Time), e.Task, e.Kind, firstLine(e.Message))
			}
			return tw.Flush()
		},
	}
}

func newJobCheckpointsCmd(server *string, out *outputFormat) *cobra.Command {
	return &cobra.Command{
		Use:   "checkpoints ID",
		Short: "List a job's recent checkpoints and the ones it restored",
		Long: "List a job's recent checkpoints, oldest first as the server keeps them, with its totals,\n" +
			"then which checkpoint each execution attempt restored. A savepoint shows its id next to\n" +
			"its checkpoint's. -o json includes each subtask's alignment, sync and async times.",
		Example: "  weir job checkpoints j-1\n  weir job checkpoints j-1 -o json",
		Args:    argsNamed("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := newClient(*server).Checkpoints(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if *out == outputJSON {
				return printJSON(w, l.Raw)
			}
			if !l.Enabled {
				fmt.Fprintf(w, "Job %s takes no checkpoints.\n", args[0])
				return nil
			}
			return printCheckpoints(w, l)
		},
	}
}

// printCheckpoints writes a job's checkpoint totals, its recent checkpoints and its
// restores.
func printCheckpoints(w io.Writer, l *client.CheckpointList) error {
	n := l.Counts
	tw := newTable(w)
	fmt.Fprintf(tw, "Latest:\t%s\n", formatCheckpointID(l.Latest))
	fmt.Fprintf(tw, "Totals:\t%d completed, %d in progress, %d failed, %d aborted, %d restored\n",
		n.Completed, n.InProgress, n.Failed, n.Aborted, n.Restored)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if len(l.Checkpoints) == 0 {
		fmt.Fprintln(w, "No checkpoints.")
	} else {
		tw = newTable(w)
		fmt.Fprintln(tw, "ID\tSTATUS\tTRIGGERED\tDURATION\tSIZE\tUPLOADED\tACKED/EXPECTED\tFAILURE")
		for _, c := range l.Checkpoints {
			id := strconv.FormatUint(c.ID, 10)
			if c.Savepoint != "" {
				id += " (" + c.Savepoint + ")"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d/%d\t%s\n", id, c.Status, formatTime(c.Triggered), formatMillis(c.DurationMs),
				humanBytes(c.Size), humanBytes(c.Uploaded), c.Acked, c.Expected, firstLine(c.Failure))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(l.Restores) == 0 {
		return nil
	}
	fmt.Fprintln(w, "\nRestores:")
	tw = newTable(w)
	fmt.Fprintln(tw, "ATTEMPT\tCHECKPOINT")
	for _, r := range l.Restores {
		fmt.Fprintf(tw, "%d\t%s\n", r.Attempt, formatCheckpointID(r.Checkpoint))
	}
	return tw.Flush()
}

// formatMillis shows a duration in milliseconds to the millisecond, "-" for none.
func formatMillis(ms float64) string {
	if ms <= 0 {
		return "-"
	}
	return time.Duration(ms * float64(time.Millisecond)).Round(time.Millisecond).String()
}

// printPlan writes a plan's vertices (with their chained steps) and its edges.
func printPlan(w io.Writer, p *client.Plan) error {
	tw := newTable(w)
	fmt.Fprintln(tw, "VERTEX\tNAME\tPARALLELISM\tSTEPS")
	for _, v := range p.Vertices {
		steps := make([]string, len(v.Steps))
		for i, s := range v.Steps {
			steps[i] = s.ID + " (" + s.Kind + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", v.ID, v.Name, v.Parallelism, strings.Join(steps, " -> "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(p.Edges) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw = newTable(w)
	fmt.Fprintln(tw, "FROM\tTO\tPARTITIONING")
	for _, e := range p.Edges {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", e.From, e.To, e.Partitioning)
	}
	return tw.Flush()
}

// printSubtasks writes every vertex's subtasks; a plan without any prints nothing.
func printSubtasks(w io.Writer, p *client.Plan) error {
	n := 0
	for _, v := range p.Vertices {
		n += len(v.Subtasks)
	}
	if n == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw := newTable(w)
	fmt.Fprintln(tw, "VERTEX\tSUBTASK\tWORKER\tSTATUS\tRECORDS IN\tRECORDS OUT")
	for _, v := range p.Vertices {
		for _, s := range v.Subtasks {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\t%d\n", v.ID, s.Index, cmp.Or(s.Worker, "-"), s.Status, s.RecordsIn, s.RecordsOut)
		}
	}
	return tw.Flush()
}

// firstLine keeps a table row on one line.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}
