package main

import (
	"os"
	"runtime"
	"runtime/debug"
)

// serverGCPercent is the garbage collector's target for the server: ingestion
// allocates per request and frees it at once, and against Go's default (100)
// this target cut about 11% of the server's CPU per event in `alinea bench`
// (docs/BENCHMARKS.md). A server's live heap is small, so letting the heap
// grow to five times it costs little memory.
const serverGCPercent = 400

// tuneRuntime sets the server's GC target, and on SQLite one more P than
// the machine has cores, unless the operator chose them with GOGC or
// GOMAXPROCS (which always win).
//
// SQLite's single ingestion writer spends most of its time in cgo calls,
// where its goroutine holds no P; coming back from a long one (a
// multi-row insert, the commit) it needs a P, and with every P running
// HTTP and JSON work it waited for one in the run queue. With a spare P
// it rarely waits: +4% events/s on 2 cores, alternated pairs in
// docs/BENCHMARKS.md. The kernel still shares the cores; the writer's
// thread is favoured there (store/ingest_sqlite.go).
func tuneRuntime(sqlite bool) {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(serverGCPercent)
	}
	if _, set := os.LookupEnv("GOMAXPROCS"); !set && sqlite {
		// From the default (which follows a container's CPU limit), so
		// that calling this again does not add another.
		runtime.SetDefaultGOMAXPROCS()
		runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + 1)
	}
}
