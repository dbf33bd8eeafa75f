package main

import (
	"os"
	"runtime/debug"
)

// serverGCPercent is the garbage collector's target for the server: ingestion
// allocates per request and frees it at once, and against Go's default (100)
// this target cut about 11% of the server's CPU per event in `alinea bench`
// (docs/BENCHMARKS.md). A server's live heap is small, so letting the heap
// grow to five times it costs little memory.
const serverGCPercent = 400

// tuneGC sets the server's GC target unless the operator chose one with
// GOGC (which always wins).
func tuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(serverGCPercent)
	}
}
