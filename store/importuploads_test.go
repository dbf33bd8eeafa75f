package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/store/storetest"
)

func TestImportUploadWaitsForItsMappingThenRuns(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		now := time.Date(2026, 3, 16, 10, 0, 0, 0, time.UTC)
		s := storetest.Open(t, b, store.Options{Now: func() time.Time { return now }})
		u, err := s.CreateUser(ctx, alinea.NewUser{Email: "m@example.com", Name: "Marta", Role: alinea.RoleMarketing, Password: "long enough password"})
		if err != nil {
			t.Fatal(err)
		}
		csv := []byte("correo;nombre\nana@example.es;Ana\n")
		up, err := s.CreateImportUpload(ctx, u.ID, "leads.csv", csv)
		if err != nil {
			t.Fatal(err)
		}
		if up.Status != alinea.ImportPending || up.UserID != u.ID || up.Bytes != int64(len(csv)) || up.Filename != "leads.csv" {
			t.Fatalf("upload %+v", up)
		}
		got, content, err := s.ImportUpload(ctx, up.ID)
		if err != nil || got.ID != up.ID || string(content) != string(csv) {
			t.Fatalf("read upload: %+v %q %v", got, content, err)
		}
		if list, err := s.ImportJobs(ctx, 10); err != nil || len(list) != 0 {
			t.Fatalf("a pending upload is listed among the imports: %+v %v", list, err)
		}

		now = now.Add(time.Minute)
		queued, err := s.QueueImportUpload(ctx, up.ID, false, map[string]string{"correo": "email"})
		if err != nil {
			t.Fatal(err)
		}
		if queued.Status != alinea.ImportQueued || queued.DryRun || queued.Mapping["correo"] != "email" || !queued.CreatedAt.Equal(now) {
			t.Fatalf("queued %+v", queued)
		}
		// A form sent twice queues once; the file now belongs to the job.
		if _, err := s.QueueImportUpload(ctx, up.ID, false, nil); alinea.ErrorCode(err) != alinea.ECONFLICT {
			t.Fatalf("second queue: %v", err)
		}
		if _, _, err := s.ImportUpload(ctx, up.ID); alinea.ErrorCode(err) != alinea.ECONFLICT {
			t.Fatalf("read a queued upload: %v", err)
		}
		if err := s.DeleteImportUpload(ctx, up.ID); alinea.ErrorCode(err) != alinea.ENOTFOUND {
			t.Fatalf("delete a queued import: %v", err)
		}
		started, content, err := s.StartImportJob(ctx, up.ID)
		if err != nil || started.Status != alinea.ImportRunning || string(content) != string(csv) {
			t.Fatalf("start: %+v %q %v", started, content, err)
		}
		prog := alinea.ImportProgress{Rows: 1, Failed: 1, Errors: []alinea.RowError{{Row: 2, Column: "correo", Problem: "is not a valid email address"}}}
		if err := s.FinishImportJob(ctx, up.ID, prog, nil); err != nil {
			t.Fatal(err)
		}
		list, err := s.ImportJobs(ctx, 10)
		if err != nil || len(list) != 1 || list[0].ID != up.ID || list[0].Status != alinea.ImportDone || list[0].Failed != 1 {
			t.Fatalf("imports: %+v %v", list, err)
		}
		if len(list[0].RowErrors) != 0 {
			t.Errorf("the list carries row errors: %+v", list[0].RowErrors)
		}

		if _, _, err := s.ImportUpload(ctx, 4242); alinea.ErrorCode(err) != alinea.ENOTFOUND {
			t.Fatalf("unknown upload: %v", err)
		}
		if _, err := s.QueueImportUpload(ctx, 4242, false, nil); alinea.ErrorCode(err) != alinea.ENOTFOUND {
			t.Fatalf("queue an unknown upload: %v", err)
		}
	})
}

func TestStaleAndDiscardedImportUploadsAreDeleted(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		now := time.Date(2026, 3, 16, 10, 0, 0, 0, time.UTC)
		s := storetest.Open(t, b, store.Options{Now: func() time.Time { return now }})
		old, err := s.CreateImportUpload(ctx, 0, "old.csv", []byte("email\na@b.es\n"))
		if err != nil {
			t.Fatal(err)
		}
		queuedOld, _ := s.CreateImportUpload(ctx, 0, "queued.csv", []byte("email\nc@d.es\n"))
		if _, err := s.QueueImportUpload(ctx, queuedOld.ID, true, nil); err != nil {
			t.Fatal(err)
		}
		now = now.Add(25 * time.Hour)
		fresh, _ := s.CreateImportUpload(ctx, 0, "fresh.csv", []byte("email\ne@f.es\n"))
		discarded, _ := s.CreateImportUpload(ctx, 0, "discarded.csv", []byte("email\ng@h.es\n"))

		n, err := s.DeleteStaleImportUploads(ctx, now.Add(-24*time.Hour))
		if err != nil || n != 1 {
			t.Fatalf("deleted %d stale uploads (%v), want 1", n, err)
		}
		if _, _, err := s.ImportUpload(ctx, old.ID); alinea.ErrorCode(err) != alinea.ENOTFOUND {
			t.Errorf("stale upload still there: %v", err)
		}
		if _, _, err := s.ImportUpload(ctx, fresh.ID); err != nil {
			t.Errorf("fresh upload: %v", err)
		}
		if j, err := s.ImportJob(ctx, queuedOld.ID); err != nil || j.Status != alinea.ImportQueued {
			t.Errorf("a queued import went with the stale uploads: %+v %v", j, err)
		}
		if err := s.DeleteImportUpload(ctx, discarded.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.ImportUpload(ctx, discarded.ID); alinea.ErrorCode(err) != alinea.ENOTFOUND {
			t.Errorf("discarded upload still there: %v", err)
		}
	})
}
