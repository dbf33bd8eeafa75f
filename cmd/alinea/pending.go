package main

import (
	"context"
	"errors"
)

// These commands are being built in this session; each moves to its own file.

func runDemo(ctx context.Context, e *env, args []string) error {
	return errors.New("demo: not built yet")
}

func runImport(ctx context.Context, e *env, args []string) error {
	return errors.New("import: not built yet")
}

func runExport(ctx context.Context, e *env, args []string) error {
	return errors.New("export: not built yet")
}

func runBench(ctx context.Context, e *env, args []string) error {
	return errors.New("bench: not built yet")
}
