package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/weir-streams/weir/internal/client"
)

// newModuleCmd returns `weir module` and its subcommands. *server is the REST API's
// base URL, read when a subcommand runs (after flags are parsed).
func newModuleCmd(server *string) *cobra.Command {
	out := outputTable
	cmd := newGroupCmd(&cobra.Command{
		Use:   "module",
		Short: "Upload, list, inspect and delete Wasm modules",
		Long: "Manage the WebAssembly modules that hold a job's user functions.\n\n" +
			"A module name points to its latest upload; a job pins the digest it was submitted with.",
	}, &out)
	cmd.AddCommand(
		newModuleUploadCmd(server, &out),
		newModuleListCmd(server, &out),
		newModuleGetCmd(server, &out),
		newModuleRmCmd(server, &out),
	)
	return finishGroup(cmd)
}

func newModuleUploadCmd(server *string, out *outputFormat) *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:   "upload FILE",
		Short: "Upload a .wasm module",
		Long: "Upload a .wasm module, streaming it to the server. The module is named after\n" +
			"the file without its .wasm extension unless --name says otherwise; FILE - reads\n" +
			"the module from standard input and then needs --name.",
		Example: "  weir module upload clicks.wasm\n  weir module upload build/udf.wasm --name clicks",
		Args:    argsNamed("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, name := args[0], name
			if name == "" {
				if path == "-" {
					return usageErrorf(cmd, "--name is required when the module is read from standard input")
				}
				name = strings.TrimSuffix(filepath.Base(path), ".wasm")
			}
			var r io.Reader = cmd.InOrStdin()
			if path != "-" {
				f, err := os.Open(path)
				if err != nil {
					return fmt.Errorf("opening module: %w", err)
				}
				defer f.Close()
				r = f
			}
			m, err := newClient(*server).UploadModule(cmd.Context(), name, r)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if *out == outputJSON {
				return printJSON(w, m.Raw)
			}
			fmt.Fprintf(w, "Uploaded module %s: %s, %s\n", m.Name, m.Digest, humanBytes(m.Size))
			if len(m.Functions) > 0 {
				fmt.Fprintln(w)
				printFunctions(w, m.Functions)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "module name (default: the file's base name without .wasm)")
	return cmd
}

func newModuleListCmd(server *string, out *outputFormat) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List modules with their latest version",
		Args:    argsNamed(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := newClient(*server).ListModules(cmd.Context())
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if *out == outputJSON {
				return printJSON(w, l.Raw)
			}
			if len(l.Modules) == 0 {
				fmt.Fprintln(w, "No modules.")
				return nil
			}
			mods := slices.Clone(l.Modules)
			slices.SortFunc(mods, func(a, b client.Module) int { return cmp.Compare(a.Name, b.Name) })
			tw := newTable(w)
			fmt.Fprintln(tw, "NAME\tDIGEST\tSIZE\tFUNCTIONS\tUPLOADED")
			for _, m := range mods {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", m.Name, shortDigest(m.Digest), humanBytes(m.Size), len(m.Functions), formatTime(m.UploadedAt))
			}
			return tw.Flush()
		},
	}
}

func newModuleGetCmd(server *string, out *outputFormat) *cobra.Command {
	return &cobra.Command{
		Use:   "get NAME",
		Short: "Show a module: digest, functions and upload history",
		Args:  argsNamed("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := newClient(*server).GetModule(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if *out == outputJSON {
				return printJSON(w, m.Raw)
			}
			tw := newTable(w)
			fmt.Fprintf(tw, "Name:\t%s\n", m.Name)
			fmt.Fprintf(tw, "Digest:\t%s\n", m.Digest)
			fmt.Fprintf(tw, "Size:\t%s\n", humanBytes(m.Size))
			fmt.Fprintf(tw, "Uploaded:\t%s\n", formatTime(m.UploadedAt))
			fmt.Fprintf(tw, "ABI version:\t%d\n", m.ABIVersion)
			if err := tw.Flush(); err != nil {
				return err
			}
			if len(m.Functions) > 0 {
				fmt.Fprintln(w)
				printFunctions(w, m.Functions)
			}
			if len(m.History) > 0 {
				fmt.Fprintln(w, "\nHistory:")
				tw = newTable(w)
				fmt.Fprintln(tw, "DIGEST\tSIZE\tUPLOADED")
				for _, v := range m.History {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", v.Digest, humanBytes(v.Size), formatTime(v.UploadedAt))
				}
				return tw.Flush()
			}
			return nil
		},
	}
}

func newModuleRmCmd(server *string, out *outputFormat) *cobra.Command {
	return &cobra.Command{
		Use:     "rm NAME",
		Aliases: []string{"delete"},
		Short:   "Delete a module (refused while a live job uses it)",
		Long: "Delete a module and its upload history. The server refuses while a live job uses it.\n" +
			"With -o json nothing is printed on success: the server's reply has no body.",
		Args: argsNamed("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := newClient(*server).DeleteModule(cmd.Context(), args[0]); err != nil {
				return err
			}
			if *out == outputTable {
				fmt.Fprintf(cmd.OutOrStdout(), "Deleted module %s\n", args[0])
			}
			return nil
		},
	}
}

func printFunctions(w io.Writer, fns []client.Function) {
	tw := newTable(w)
	fmt.Fprintln(tw, "FUNCTION\tKIND\tINDEX")
	for _, f := range fns {
		fmt.Fprintf(tw, "%s\t%s\t%d\n", f.Name, f.Kind, f.Index)
	}
	_ = tw.Flush()
}

// What follows is shared by the client subcommands (`weir module ...`, `weir job ...`).

// exitCode is the process exit status for err as Execute returned it: 0 for none,
// 2 for a command line the user must fix (a usageError, or one of cobra's own
// complaints), 1 for anything else: an error the server reported, a server that
// cannot be reached, a file that cannot be read.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if errors.As(err, new(usageError)) || isCobraUsageError(err) {
		return 2
	}
	return 1
}

// usageErrorf returns a usageError that points at cmd's help, since main prints an
// error as one line and cobra's usage dump is silenced.
func usageErrorf(cmd *cobra.Command, format string, args ...any) error {
	return usageError{fmt.Errorf(format+" (see '%s --help')", append(args, cmd.CommandPath())...)}
}

// isCobraUsageError recognises the command-line errors cobra and pflag raise before
// any of our code runs, for commands that have no flag error function of ours (the
// root command, for one). They have no type of their own, only these messages.
func isCobraUsageError(err error) bool {
	msg := err.Error()
	for _, prefix := range []string{
		"unknown command ", "unknown flag: ", "unknown shorthand flag: ",
		"flag needs an argument: ", "invalid argument ", "bad flag syntax: ",
		"required flag(s) ", "if any flags in the group ",
	} {
		if strings.HasPrefix(msg, prefix) {
			return true
		}
	}
	return false
}

// newGroupCmd sets up a command that only groups subcommands: it prints its help
// when called alone, rejects an unknown subcommand as a usage error, turns flag errors
// of the whole subtree into usage errors and adds the shared -o flag.
func newGroupCmd(cmd *cobra.Command, out *outputFormat) *cobra.Command {
	cmd.Args = func(c *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usageErrorf(c, "unknown command %q for %q", args[0], c.CommandPath())
		}
		return nil
	}
	cmd.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErrorf(c, "%w", err)
	})
	cmd.PersistentFlags().VarP(out, "output", "o", "output format: table or json")
	return cmd
}

// finishGroup silences cobra's own error and usage printing on group and on every
// command under it: main prints errors and picks the exit status (exitCode), cobra's
// printing would say it twice, and a usage dump would bury the server's message. It
// runs once the subcommands are added.
func finishGroup(group *cobra.Command) *cobra.Command {
	group.SilenceErrors = true
	group.SilenceUsage = true
	for _, c := range group.Commands() {
		finishGroup(c)
	}
	return group
}

// argsNamed accepts exactly the named positional arguments ("FILE", "ID"; none when
// called without names) and reports a missing or extra one as a usage error.
func argsNamed(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) < len(names):
			missing := names[len(args):]
			if len(missing) == 1 {
				return usageErrorf(cmd, "missing argument %s", missing[0])
			}
			return usageErrorf(cmd, "missing arguments %s", strings.Join(missing, " "))
		case len(args) > len(names):
			return usageErrorf(cmd, "unexpected argument %q", args[len(names)])
		}
		return nil
	}
}

// outputFormat is the value of -o; Set rejects anything but table and json, which
// pflag reports as a flag error and so as a usage error.
type outputFormat string

const (
	outputTable outputFormat = "table"
	outputJSON  outputFormat = "json"
)

func (o *outputFormat) String() string { return string(*o) }
func (o *outputFormat) Type() string   { return "table|json" }
func (o *outputFormat) Set(s string) error {
	switch f := outputFormat(s); f {
	case outputTable, outputJSON:
		*o = f
		return nil
	}
	return errors.New("must be table or json")
}

func newClient(server string) *client.Client { return client.New(server, nil) }

func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) }

// printJSON writes the server's JSON indented; an empty body prints nothing.
func printJSON(w io.Writer, raw json.RawMessage) error {
	if len(raw) == 0 {
		return nil
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, bytes.TrimSpace(raw), "", "  "); err != nil {
		// Not JSON after all: show it as it came rather than hide it.
		buf.Reset()
		buf.Write(bytes.TrimSpace(raw))
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}

func shortDigest(d string) string {
	algo, hex, ok := strings.Cut(d, ":")
	if !ok || len(hex) <= 12 {
		return d
	}
	return algo + ":" + hex[:12]
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format(time.RFC3339)
}
