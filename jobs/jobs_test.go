package jobs_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/alinea-crm/alinea/jobs"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/store/storetest"
)

type echoArgs struct {
	Value    int  `json:"value"`
	FailOnce bool `json:"fail_once"`
}

func (echoArgs) Kind() string { return "test_echo" }

type echoWorker struct {
	river.WorkerDefaults[echoArgs]
	sum      atomic.Int64
	attempts atomic.Int64
}

func (w *echoWorker) Work(ctx context.Context, job *river.Job[echoArgs]) error {
	w.attempts.Add(1)
	if job.Args.FailOnce && job.Attempt == 1 {
		return errors.New("first attempt fails on purpose")
	}
	w.sum.Add(int64(job.Args.Value))
	return nil
}

// NextRetry retries at once so the test does not wait for River's backoff.
func (w *echoWorker) NextRetry(job *river.Job[echoArgs]) time.Time { return time.Now() }

func TestQueueRunsAndRetriesJobs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		st := storetest.Open(t, b, store.Options{})
		if err := jobs.Migrate(ctx, st); err != nil {
			t.Fatal(err)
		}
		w := &echoWorker{}
		workers := river.NewWorkers()
		river.AddWorker(workers, w)
		q, err := jobs.New(st, jobs.Config{Workers: workers, MaxWorkers: 2, PollInterval: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = q.Stop(stopCtx)
		})
		var ids []int64
		for _, a := range []echoArgs{{Value: 2}, {Value: 3, FailOnce: true}, {Value: 5}} {
			id, err := q.Insert(ctx, a, nil)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		deadline := time.Now().Add(30 * time.Second)
		for _, id := range ids {
			for {
				row, err := q.Job(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if row.State == rivertype.JobStateCompleted {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("job %d still %s", id, row.State)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		if got := w.sum.Load(); got != 10 {
			t.Errorf("sum of worked values = %d, want 10 (each job worked once)", got)
		}
		if got := w.attempts.Load(); got != 4 {
			t.Errorf("attempts = %d, want 4 (one retry)", got)
		}
		if _, err := q.Job(ctx, 999999); err == nil {
			t.Error("unknown job id: want an error")
		}
	})
}
