package store_test

import (
	"context"
	"testing"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/store/storetest"
)

func TestImportJobLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		s := storetest.Open(t, b, store.Options{})
		u, err := s.CreateUser(ctx, alinea.NewUser{Email: "m@example.com", Name: "Marta", Role: alinea.RoleMarketing, Password: "long enough password"})
		if err != nil {
			t.Fatal(err)
		}
		csv := []byte("correo;nombre\nana@example.es;Ana\n")
		j, err := s.CreateImportJob(ctx, u.ID, "leads.csv", true, map[string]string{"correo": "email"}, csv)
		if err != nil {
			t.Fatal(err)
		}
		if j.Status != alinea.ImportQueued || !j.DryRun || j.Bytes != int64(len(csv)) || j.Mapping["correo"] != "email" {
			t.Fatalf("created job %+v", j)
		}
		started, content, err := s.StartImportJob(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if started.Status != alinea.ImportRunning || string(content) != string(csv) || started.StartedAt == nil {
			t.Fatalf("started job %+v content %q", started, content)
		}
		prog := alinea.ImportProgress{Rows: 1, Created: 0, Failed: 1, Errors: []alinea.RowError{{Row: 2, Column: "correo", Problem: "is not a valid email address"}}}
		if err := s.UpdateImportProgress(ctx, j.ID, prog); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.ImportJob(ctx, j.ID); got.Failed != 1 || len(got.RowErrors) != 1 || got.RowErrors[0].Row != 2 {
			t.Fatalf("progress not recorded: %+v", got)
		}
		if err := s.FinishImportJob(ctx, j.ID, prog, nil); err != nil {
			t.Fatal(err)
		}
		done, err := s.ImportJob(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if done.Status != alinea.ImportDone || done.FinishedAt == nil {
			t.Fatalf("finished job %+v", done)
		}
		// The file is dropped once done, so the job cannot be run twice.
		if _, _, err := s.StartImportJob(ctx, j.ID); alinea.ErrorCode(err) != alinea.ECONFLICT {
			t.Fatalf("restart of a finished job: got %v", err)
		}
		if _, err := s.ImportJob(ctx, 4242); alinea.ErrorCode(err) != alinea.ENOTFOUND {
			t.Fatalf("unknown job: got %v", err)
		}
	})
}
