package store

import (
	"syscall"
	"time"
)

// threadCPU is the CPU time (user and system) of the calling OS thread.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_THREAD, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// favourThread lowers the calling OS thread's nice value by by, so that
// the kernel runs it before the process's other threads when they want the
// same core, and returns the function that puts it back. It fails when the
// process may not lower a nice value (it needs CAP_SYS_NICE, as root has,
// or an RLIMIT_NICE that allows it). The caller must be locked to its
// thread until it has restored it.
func favourThread(by int) (restore func(), err error) {
	tid := syscall.Gettid()
	// The raw system call returns 20 - nice, so that it is never negative.
	raw, err := syscall.Getpriority(syscall.PRIO_PROCESS, tid)
	if err != nil {
		return nil, err
	}
	nice := 20 - raw
	if err := syscall.Setpriority(syscall.PRIO_PROCESS, tid, max(nice-by, -20)); err != nil {
		return nil, err
	}
	return func() { _ = syscall.Setpriority(syscall.PRIO_PROCESS, tid, nice) }, nil
}
