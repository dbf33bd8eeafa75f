package main

import (
	"context"
	"fmt"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/agreement"
	"github.com/alinea-crm/alinea/demo"
	"github.com/alinea-crm/alinea/store"
)

// activateDemoAgreement signs and activates the seed-003 example agreement
// in a freshly built demo, with revenue goals for the demo's quarter and the
// next, and scores every contact under it — so the demo opens with goal
// pace on the home page and explained scores on contact pages. It runs after
// the history is built, so it only adds forward moves dated now.
func activateDemoAgreement(ctx context.Context, st *store.Store, res demo.Result, now time.Time) (agreement.Version, error) {
	doc, err := agreement.Parse(agreement.Example)
	if err != nil {
		return agreement.Version{}, fmt.Errorf("demo agreement: %w", err)
	}
	q := time.Date(now.Year(), time.Month((int(now.Month())-1)/3*3+1), 1, 0, 0, 0, 0, time.UTC)
	next := q.AddDate(0, 3, 0)
	doc.Name = "Acuerdo de ingresos (demo) / Revenue agreement (demo)"
	doc.Goals = []agreement.Goal{
		{Period: fmt.Sprintf("%d-Q%d", q.Year(), (int(q.Month())-1)/3+1), Revenue: 150000},
		{Period: fmt.Sprintf("%d-Q%d", next.Year(), (int(next.Month())-1)/3+1), Revenue: 180000},
	}
	src, err := doc.YAML()
	if err != nil {
		return agreement.Version{}, err
	}
	var mkt, sales alinea.User
	for _, c := range res.Users {
		u, err := st.UserByEmail(ctx, c.Email)
		if err != nil {
			return agreement.Version{}, fmt.Errorf("demo agreement: %w", err)
		}
		if u.Role == alinea.RoleMarketing && mkt.ID == 0 {
			mkt = u
		}
		if u.Role == alinea.RoleSales && sales.ID == 0 {
			sales = u
		}
	}
	if mkt.ID == 0 || sales.ID == 0 {
		return agreement.Version{}, fmt.Errorf("demo agreement: the demo has no marketing or no sales user to sign")
	}
	v, err := st.CreateAgreement(ctx, src, 0, mkt.ID)
	if err != nil {
		return v, err
	}
	if _, err := st.ProposeAgreement(ctx, v.ID, mkt.ID); err != nil {
		return v, err
	}
	if _, err := st.SignAgreement(ctx, v.ID, mkt); err != nil {
		return v, err
	}
	if _, err := st.SignAgreement(ctx, v.ID, sales); err != nil {
		return v, err
	}
	if v, err = st.ActivateAgreement(ctx, v.ID, sales.ID); err != nil {
		return v, err
	}
	if err := st.QueueReevaluation(ctx, v.ID); err != nil {
		return v, err
	}
	return v, st.ReevaluateAll(ctx, v.ID, 1000)
}
