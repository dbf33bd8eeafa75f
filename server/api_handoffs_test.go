package server

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/store/storetest"
)

// activateRoutingToSales activates the example agreement with Spanish
// leads routed to the test's sales user.
func (a *apiTest) activateRoutingToSales() {
	a.t.Helper()
	ctx := context.Background()
	doc := edit(a.t, exampleDocument(a.t), "- email: carlos.ruiz@vertice.example\n    - name: latam_north", "- email: sales@alinea.test\n    - name: latam_north")
	v, err := a.st.CreateAgreement(ctx, doc, 0, a.users[alinea.RoleMarketing].ID)
	if err != nil {
		a.t.Fatal(err)
	}
	steps := []func() error{
		func() error { _, err := a.st.ProposeAgreement(ctx, v.ID, a.users[alinea.RoleMarketing].ID); return err },
		func() error { _, err := a.st.SignAgreement(ctx, v.ID, a.users[alinea.RoleMarketing]); return err },
		func() error { _, err := a.st.SignAgreement(ctx, v.ID, a.users[alinea.RoleSales]); return err },
		func() error {
			_, err := a.st.ActivateAgreement(ctx, v.ID, a.users[alinea.RoleMarketing].ID)
			return err
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			a.t.Fatal(err)
		}
	}
}

func TestAPIHandoffInboxAcceptRejectAndReport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		a := newAPITest(t, b)
		a.activateRoutingToSales()
		ctx := context.Background()
		var ids []int64
		for _, email := range []string{"ana@cliente.es", "luis@cliente.es"} {
			id := a.contact(email, "")
			a.must(alinea.RoleMarketing, "POST", fmt.Sprintf("/api/v1/contacts/%d/transitions", id), `{"to":"mql"}`, 201, nil)
			ids = append(ids, id)
		}
		if _, err := a.st.SweepHandoffs(ctx); err != nil {
			t.Fatal(err)
		}

		var inbox page[alinea.Handoff]
		a.must(alinea.RoleSales, "GET", "/api/v1/handoffs?owner=me&status=open", "", 200, &inbox)
		if len(inbox.Data) != 2 || inbox.Data[0].Rule != "spain" || len(inbox.Data[0].Clocks) != 1 || inbox.Data[0].Clocks[0].Kind != "accept_within" {
			t.Fatalf("sales inbox = %+v", inbox.Data)
		}
		first, second := inbox.Data[1], inbox.Data[0] // newest first

		if e := a.fail(alinea.RoleSales, "GET", "/api/v1/handoffs?status=pending", ""); e.status != 400 || e.Error.Fields["status"] == "" {
			t.Errorf("unknown status filter: %+v", e)
		}
		if e := a.fail(alinea.RoleMarketing, "POST", fmt.Sprintf("/api/v1/handoffs/%d/accept", first.ID), ""); e.status != 403 {
			t.Errorf("marketing accepting: %d", e.status)
		}
		var accepted alinea.Handoff
		a.must(alinea.RoleSales, "POST", fmt.Sprintf("/api/v1/handoffs/%d/accept", first.ID), "", 200, &accepted)
		if accepted.Status != alinea.HandoffAccepted || accepted.Stage != alinea.StageSAL || len(accepted.Clocks) != 3 {
			t.Errorf("accepted = %+v", accepted)
		}
		if e := a.fail(alinea.RoleSales, "POST", fmt.Sprintf("/api/v1/handoffs/%d/accept", first.ID), ""); e.status != 409 {
			t.Errorf("accepting twice: %d", e.status)
		}

		path := fmt.Sprintf("/api/v1/handoffs/%d/reject", second.ID)
		for _, body := range []string{`{}`, `{"reason":"too_expensive"}`} {
			if e := a.fail(alinea.RoleSales, "POST", path, body); e.status != 400 || e.Error.Fields["reason"] == "" {
				t.Errorf("reject %s: %+v", body, e)
			}
		}
		if e := a.fail(alinea.RoleSales, "POST", path, `{"reason":"no_budget","mood":"grumpy"}`); e.status != 400 || !strings.Contains(e.Error.Message+fmt.Sprint(e.Error.Fields), "mood") {
			t.Errorf("unknown field: %+v", e)
		}
		var rejected alinea.Handoff
		a.must(alinea.RoleSales, "POST", path, `{"reason":"no_budget","comment":"Sin presupuesto hasta 2028"}`, 200, &rejected)
		if rejected.Stage != alinea.StageRecycled || rejected.ReasonCode != "no_budget" {
			t.Errorf("rejected = %+v", rejected)
		}

		// Reps: managers set capacity; sales cannot.
		sales := a.users[alinea.RoleSales].ID
		if e := a.fail(alinea.RoleSales, "PUT", fmt.Sprintf("/api/v1/reps/%d", sales), `{"capacity":3}`); e.status != 403 {
			t.Errorf("sales changing capacity: %d", e.status)
		}
		var rep alinea.Rep
		a.must(alinea.RoleManager, "PUT", fmt.Sprintf("/api/v1/reps/%d", sales), fmt.Sprintf(`{"capacity":3,"manager_id":%d}`, a.users[alinea.RoleManager].ID), 200, &rep)
		if rep.Capacity != 3 || rep.ManagerID != a.users[alinea.RoleManager].ID {
			t.Errorf("rep = %+v", rep)
		}
		if e := a.fail(alinea.RoleSales, "POST", fmt.Sprintf("/api/v1/reps/%d/absences", sales), `{"starts_on":"2027-08-01","ends_on":"2027-07-01"}`); e.status != 400 || e.Error.Fields["ends_on"] == "" {
			t.Errorf("backwards absence: %+v", e)
		}
		var abs, theirs alinea.Absence
		a.must(alinea.RoleSales, "POST", fmt.Sprintf("/api/v1/reps/%d/absences", sales), `{"starts_on":"2027-08-01","ends_on":"2027-08-15","note":"vacaciones"}`, 201, &abs)
		a.must(alinea.RoleManager, "POST", fmt.Sprintf("/api/v1/reps/%d/absences", a.users[alinea.RoleManager].ID), `{"starts_on":"2027-09-01","ends_on":"2027-09-03"}`, 201, &theirs)
		if e := a.fail(alinea.RoleSales, "DELETE", fmt.Sprintf("/api/v1/absences/%d", theirs.ID), ""); e.status != 403 {
			t.Errorf("a rep deleting the manager's absence: %d", e.status)
		}
		a.must(alinea.RoleSales, "DELETE", fmt.Sprintf("/api/v1/absences/%d", abs.ID), "", 204, nil)
		if e := a.fail(alinea.RoleSales, "POST", fmt.Sprintf("/api/v1/reps/%d/absences", a.users[alinea.RoleManager].ID), `{"starts_on":"2027-08-01","ends_on":"2027-08-15"}`); e.status != 403 {
			t.Errorf("a rep recording the manager's absence: %d", e.status)
		}

		var report store.SLAReport
		a.must(alinea.RoleMarketing, "GET", "/api/v1/reports/sla/"+time.Now().UTC().Format("2006-01"), "", 200, &report)
		if report.Marketing.Delivered != 2 || report.Rejections.Total != 1 || report.Rejections.ByReason[0].Reason != "no_budget" || len(report.Terms) == 0 {
			t.Errorf("report = %+v", report)
		}
		if e := a.fail(alinea.RoleMarketing, "GET", "/api/v1/reports/sla/last-week", ""); e.status != 400 || e.Error.Fields["period"] == "" {
			t.Errorf("bad period: %+v", e)
		}
	})
}
