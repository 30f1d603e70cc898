package main

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"
)

// logFormatFlag is the root command's persistent flag that every server process
// (standalone today; control and worker too) builds its logger from.
const logFormatFlag = "log-format"

// logFormat is the --log-format value cmd sees: its own, inherited from the root,
// or WEIR_LOG_FORMAT (applyEnv has run by then).
func logFormat(cmd *cobra.Command) string {
	v, err := cmd.Flags().GetString(logFormatFlag)
	if err != nil {
		return "text" // a command outside the root's tree, as in some tests
	}
	return v
}

// newLogger returns a log/slog logger writing to w: "text" (key=value lines) or
// "json" (one JSON object per line, with time, level and msg).
func newLogger(w io.Writer, format string) (*slog.Logger, error) {
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}
