package store_test

import (
	"context"
	"testing"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/store/storetest"
)

func TestAbsenceByID(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		s := storetest.Open(t, b, store.Options{})
		carlos := mustUser(t, s, "carlos.ruiz@vertice.example", alinea.RoleSales)
		emily := mustUser(t, s, "emily.clarke@vertice.example", alinea.RoleSales)
		mine, err := s.AddAbsence(ctx, alinea.Absence{UserID: carlos.ID, StartsOn: "2027-01-10", EndsOn: "2027-01-15", Note: "vacaciones"})
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := s.AddAbsence(ctx, alinea.Absence{UserID: emily.ID, StartsOn: "2027-02-01", EndsOn: "2027-02-01"})
		if err != nil {
			t.Fatal(err)
		}

		got, err := s.AbsenceByID(ctx, mine.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got != mine {
			t.Errorf("absence %d = %+v, want %+v", mine.ID, got, mine)
		}
		if got, err := s.AbsenceByID(ctx, theirs.ID); err != nil || got.UserID != emily.ID {
			t.Errorf("absence %d = %+v (%v), want emily's", theirs.ID, got, err)
		}

		if err := s.DeleteAbsence(ctx, mine.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AbsenceByID(ctx, mine.ID); alinea.ErrorCode(err) != alinea.ENOTFOUND {
			t.Errorf("deleted absence: %v, want ENOTFOUND", err)
		}
	})
}
