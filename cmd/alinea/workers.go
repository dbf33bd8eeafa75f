package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/alinea-crm/alinea/jobs"
)

// workerFlags are the background workers' settings, for the commands that
// run them (serve, demo). Call checkWorkerFlags after parsing.
func workerFlags(e *env, fs *flag.FlagSet, c *config) {
	fs.StringVar(&c.sweepInterval, "sla-sweep-interval", envDefault(e, "sla-sweep-interval", jobs.DefaultSweepInterval.String()),
		"how often new MQLs are routed and SLA clocks checked, 1s to 1h (ALINEA_SLA_SWEEP_INTERVAL)")
}

// checkWorkerFlags validates the worker flags, whether they came from the
// command line or the environment.
func checkWorkerFlags(c *config) error {
	d, err := time.ParseDuration(c.sweepInterval)
	if err != nil || d < time.Second || d > time.Hour {
		return fmt.Errorf("--sla-sweep-interval (ALINEA_SLA_SWEEP_INTERVAL): must be a duration from 1s to 1h such as 15s; got %q", c.sweepInterval)
	}
	c.SweepInterval = d
	return nil
}

// periodicJobs is the work River's leader schedules: one instance sweeps
// per interval however many run.
func periodicJobs(c config) []*river.PeriodicJob {
	return []*river.PeriodicJob{jobs.HandoffSweepPeriodic(c.SweepInterval)}
}
