package main

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"gopkg.in/yaml.v3"
)

// No container engine runs on the build machines, so these tests check that what
// deploy/ asks of weir and nats-server exists: every subcommand, flag and WEIR_*
// variable the compose file and the Dockerfile use.

type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
	} `yaml:"services"`
}

// checkWeirArgs parses args as weir would and checks env names its flags.
func checkWeirArgs(t *testing.T, where string, args []string, env map[string]string) {
	t.Helper()
	root := newRootCmd()
	cmd, rest, err := root.Find(args)
	if err != nil || cmd == root {
		t.Fatalf("%s: %v is no weir subcommand: %v", where, args, err)
	}
	if err := cmd.ParseFlags(rest); err != nil {
		t.Fatalf("%s: weir %s: %v", where, cmd.Name(), err)
	}
	if n := len(cmd.Flags().Args()); n > 0 {
		t.Fatalf("%s: weir %s takes no arguments, got %v", where, cmd.Name(), cmd.Flags().Args())
	}
	for name := range env {
		flagName := strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(name, "WEIR_")), "_", "-")
		if !strings.HasPrefix(name, "WEIR_") || cmd.Flags().Lookup(flagName) == nil {
			t.Fatalf("%s: %s names no flag of weir %s", where, name, cmd.Name())
		}
	}
}

func TestComposeFileMatchesTheBinaries(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "deploy", "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var cf composeFile
	if err := yaml.Unmarshal(b, &cf); err != nil {
		t.Fatal(err)
	}
	roles := map[string]int{}
	for name, svc := range cf.Services {
		switch {
		case strings.HasPrefix(svc.Image, "weir"):
			checkWeirArgs(t, "service "+name, svc.Command, svc.Environment)
			roles[svc.Command[0]]++
		case strings.HasPrefix(svc.Image, "nats"):
			fs := flag.NewFlagSet("nats-server", flag.ContinueOnError)
			if _, err := server.ConfigureOptions(fs, svc.Command, func() {}, func() {}, func() {}); err != nil {
				t.Fatalf("service %s: nats-server %v: %v", name, svc.Command, err)
			}
			roles["nats"]++
		default:
			t.Fatalf("service %s: unexpected image %q", name, svc.Image)
		}
	}
	if roles["nats"] != 3 || roles["control"] != 1 || roles["worker"] != 1 {
		t.Fatalf("want three NATS nodes, a control and a worker service, got %v", roles)
	}
}

func TestDockerfileCommandExists(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "deploy", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^CMD (\[.*\])$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("the Dockerfile has no CMD in exec form")
	}
	var args []string
	if err := json.Unmarshal(m[1], &args); err != nil {
		t.Fatal(err)
	}
	checkWeirArgs(t, "Dockerfile CMD", args, nil)
	if !strings.Contains(string(b), "go build") || !strings.Contains(string(b), "./cmd/weir") {
		t.Fatal("the Dockerfile does not build ./cmd/weir")
	}
}
