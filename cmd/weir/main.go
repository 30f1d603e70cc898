// Command weir is Weir's single binary: `weir standalone` runs the whole platform
// in one process; `weir module ...`, `weir job ...` and `weir savepoint ...` are
// clients of its REST API.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func main() {
	root := newRootCmd()
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "weir:", err)
		os.Exit(exitCode(err))
	}
}

func newRootCmd() *cobra.Command {
	server := "http://127.0.0.1:8080"
	root := &cobra.Command{
		Use:           "weir",
		Short:         "Weir: stream processing with WebAssembly UDFs",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if err := applyEnv(cmd); err != nil {
				return err
			}
			if _, err := newLogger(io.Discard, logFormat(cmd)); err != nil {
				return usageError{err}
			}
			return nil
		},
	}
	root.PersistentFlags().StringVar(&server, "server", server, "REST API of the Weir control plane (env WEIR_SERVER)")
	root.PersistentFlags().String(logFormatFlag, "text", "log format of the server processes: text or json (env WEIR_LOG_FORMAT)")
	root.AddCommand(newStandaloneCmd(), newControlCmd(), newWorkerCmd(), newModuleCmd(&server), newJobCmd(&server), newSavepointCmd(&server), newStreamCmd(), newUDFCmd())
	return root
}

// applyEnv gives every flag not set on the command line the value of its WEIR_*
// environment variable: --data-dir is WEIR_DATA_DIR.
func applyEnv(cmd *cobra.Command) error {
	var errs []error
	apply := func(f *pflag.Flag) {
		if f.Changed {
			return
		}
		env := "WEIR_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", env, v, err))
			}
			f.Changed = true
		}
	}
	cmd.Flags().VisitAll(apply)
	cmd.InheritedFlags().VisitAll(apply)
	return errors.Join(errs...)
}
