//go:build !linux

package store

import (
	"errors"
	"time"
)

// threadCPU is not measured outside Linux.
func threadCPU() time.Duration { return 0 }

// favourThread is Linux only (per-thread nice values).
func favourThread(by int) (restore func(), err error) {
	return nil, errors.New("thread priorities are set on Linux only")
}
