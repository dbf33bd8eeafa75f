package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/jobs"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/store/storetest"
)

func TestImportJobImportsGoodRowsAndReportsBadOnes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		st := storetest.Open(t, b, store.Options{})
		if err := jobs.Migrate(ctx, st); err != nil {
			t.Fatal(err)
		}
		workers := river.NewWorkers()
		river.AddWorker(workers, &jobs.ImportWorker{Store: st})
		q, err := jobs.New(st, jobs.Config{Workers: workers, PollInterval: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = q.Stop(c)
		})
		csv := "correo;nombre;país\nana@empresa.es;Ana;España\nno-es-un-correo;Luis;ES\nbea@empresa.mx;Bea;México\n"
		imp, err := st.CreateImportJob(ctx, 0, "leads.csv", false, nil, []byte(csv))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := q.Insert(ctx, jobs.ImportArgs{ImportID: imp.ID}, nil); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			imp, err = st.ImportJob(ctx, imp.ID)
			if err != nil {
				t.Fatal(err)
			}
			if imp.Status == alinea.ImportDone || imp.Status == alinea.ImportFailed {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("import still %s", imp.Status)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if imp.Status != alinea.ImportDone || imp.Created != 2 || imp.Failed != 1 {
			t.Fatalf("import %+v", imp)
		}
		if len(imp.RowErrors) != 1 || imp.RowErrors[0].Row != 3 || imp.RowErrors[0].Column != "correo" {
			t.Fatalf("row errors %+v", imp.RowErrors)
		}
		got, _, err := st.Contacts(ctx, alinea.ContactFilter{Email: "bea@empresa.mx"})
		if err != nil || len(got) != 1 || got[0].Country != "MX" {
			t.Fatalf("good row after the bad one: %+v %v", got, err)
		}

		// A file whose header has no email column fails with a clear error.
		bad, _ := st.CreateImportJob(ctx, 0, "bad.csv", false, nil, []byte("nombre\nAna\n"))
		if _, err := q.Insert(ctx, jobs.ImportArgs{ImportID: bad.ID}, nil); err != nil {
			t.Fatal(err)
		}
		for {
			bad, _ = st.ImportJob(ctx, bad.ID)
			if bad.Status == alinea.ImportFailed {
				break
			}
			if bad.Status == alinea.ImportDone || time.Now().After(deadline) {
				t.Fatalf("bad header: %+v", bad)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if bad.Error == "" {
			t.Fatal("a failed import must say why")
		}
	})
}
