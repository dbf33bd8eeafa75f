package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestBenchServerProcess runs `alinea bench` with its server in a child
// process (the default): the child must report where it listens and, when
// stopped, the writer's figures, which the bench prints.
func TestBenchServerProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	out, err := exec.Command(bin, "bench", "--events", "2000", "--contacts", "0", "--dir", t.TempDir()).CombinedOutput()
	if err != nil {
		t.Fatalf("alinea bench: %v\n%s", err, out)
	}
	for _, want := range []string{"ingest /v1/batch (sqlite, 100/req, 16 conns) ", "2000 items", "CPU time of the server process", "(client: ",
		"of which SQLite's single writer thread", "raw SQLite insert"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
