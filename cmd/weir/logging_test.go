package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/require"
)

func TestJSONLogFormat(t *testing.T) {
	var buf bytes.Buffer
	logger, err := newLogger(&buf, "json")
	require.NoError(t, err)
	logger.With("component", "control").Info("weir standalone ready", "slots", 4, "http", "http://127.0.0.1:8080")
	logger.Warn("second")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 2, "one JSON object per line")
	var rec map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &rec), lines[0])
	require.Equal(t, "INFO", rec["level"])
	require.Equal(t, "weir standalone ready", rec["msg"])
	require.Equal(t, "control", rec["component"])
	require.EqualValues(t, 4, rec["slots"])
	require.Equal(t, "http://127.0.0.1:8080", rec["http"])
	require.NotEmpty(t, rec["time"])
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &rec), lines[1])
	require.Equal(t, "WARN", rec["level"])

	buf.Reset()
	logger, err = newLogger(&buf, "text")
	require.NoError(t, err)
	logger.Info("ready", "slots", 4)
	require.Contains(t, buf.String(), `level=INFO msg=ready slots=4`)

	_, err = newLogger(&buf, "xml")
	require.EqualError(t, err, `--log-format "xml": want text or json`)
}

// --log-format belongs to the root command: it works before or after a
// subcommand and from WEIR_LOG_FORMAT, and a bad value is a usage error.
func TestLogFormatFlag(t *testing.T) {
	run := func(env string, args ...string) (string, error) {
		t.Helper()
		if env != "" {
			t.Setenv("WEIR_LOG_FORMAT", env)
		}
		root := newRootCmd()
		var stderr bytes.Buffer
		root.SetErr(&stderr)
		root.SetOut(&stderr)
		root.AddCommand(&cobra.Command{Use: "probe", RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := newLogger(cmd.ErrOrStderr(), logFormat(cmd))
			if err != nil {
				return err
			}
			logger.Info("probe")
			return nil
		}})
		root.SetArgs(args)
		err := root.Execute()
		return stderr.String(), err
	}
	out, err := run("", "probe")
	require.NoError(t, err)
	require.Contains(t, out, "level=INFO msg=probe", "text is the default")

	for _, args := range [][]string{{"--log-format", "json", "probe"}, {"probe", "--log-format=json"}} {
		out, err = run("", args...)
		require.NoError(t, err)
		require.True(t, json.Valid([]byte(strings.TrimSpace(out))), "%v: %q", args, out)
	}

	out, err = run("json", "probe")
	require.NoError(t, err)
	require.True(t, json.Valid([]byte(strings.TrimSpace(out))), "WEIR_LOG_FORMAT=json: %q", out)

	_, err = run("", "--log-format", "xml", "probe")
	var ue usageError
	require.ErrorAs(t, err, &ue)
	require.Equal(t, 2, exitCode(err))

	standalone, _, err := newRootCmd().Find([]string{"standalone"})
	require.NoError(t, err)
	require.Nil(t, standalone.LocalNonPersistentFlags().Lookup("log-format"), "standalone uses the root's flag")
}
