package web_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/alinea-crm/alinea"
)

var accountLink = regexp.MustCompile(`<td class="cell-name"><a href="/accounts/(\d+)">`)

// accountIDs are the accounts a list page shows, in order.
func accountIDs(page string) []string {
	var out []string
	for _, m := range accountLink.FindAllStringSubmatch(page, -1) {
		out = append(out, m[1])
	}
	return out
}

// storeAccounts lists the ids of the accounts matching f, newest first.
func (a *app) storeAccounts(f alinea.AccountFilter) []string {
	a.t.Helper()
	f.Before, f.Limit = math.MaxInt64, 1000
	as, _, err := a.store.Accounts(context.Background(), f)
	if err != nil {
		a.t.Fatal(err)
	}
	out := make([]string, len(as))
	for i, acc := range as {
		out[i] = fmt.Sprint(acc.ID)
	}
	return out
}

func TestAccountsListPagesNewestFirst(t *testing.T) {
	a := newApp(t)
	c := a.signedIn(alinea.RoleSales, "es")
	all := a.storeAccounts(alinea.AccountFilter{})
	if len(all) <= 50 {
		t.Fatalf("the demo has %d accounts; the test needs more than a page", len(all))
	}
	first := c.get("/accounts")
	if first.status != http.StatusOK {
		t.Fatalf("GET /accounts: %d\n%s", first.status, clip(text(first.body)))
	}
	page := text(first.body)
	mustContain(t, "accounts list", page, "Cuentas", "Nombre", "Dominio", "Sector", "Empleados", "País", "Contactos", "Pipeline abierto", "Más antiguas")
	if got := accountIDs(first.body); !slices.Equal(got, all[:50]) {
		t.Fatalf("first page lists %v, want the 50 newest %v", got, all[:50])
	}
	older := pagerLink(first.body, "next")
	second := c.get(older)
	if got := accountIDs(second.body); !slices.Equal(got, all[50:]) {
		t.Fatalf("second page (%s) lists %v, want %v", older, got, all[50:])
	}
	if pagerLink(second.body, "next") != "" {
		t.Errorf("the last page links to an older one")
	}
	back := c.get(pagerLink(second.body, "prev"))
	if got := accountIDs(back.body); !slices.Equal(got, all[:50]) {
		t.Errorf("back to the newer page lists %v, want %v", got, all[:50])
	}

	// The nav lists accounts right after contacts.
	nav := regexpFind(`(?s)<nav class="mainnav"[^>]*>(.*?)</nav>`, first.body)
	if i, j := strings.Index(nav, `href="/contacts"`), strings.Index(nav, `href="/accounts" aria-current="page"`); i < 0 || j < i {
		t.Errorf("the navigation should list the current Cuentas after Contactos:\n%s", nav)
	}

	en := a.signedIn(alinea.RoleMarketing, "en")
	mustContain(t, "accounts in English", text(en.get("/accounts").body), "Accounts", "Industry", "Employees", "Open pipeline", "Older")
}

func TestAccountsFiltersAndSearch(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	c := a.signedIn(alinea.RoleManager, "es")
	sample, _, err := a.store.Accounts(ctx, alinea.AccountFilter{Limit: 10})
	if err != nil || len(sample) < 3 {
		t.Fatalf("demo accounts: %v %v", sample, err)
	}
	acc := sample[2]
	owner, err := a.store.User(ctx, acc.OwnerID)
	if err != nil {
		t.Fatalf("the demo account %s has no owner: %v", acc.Name, err)
	}

	for _, tc := range []struct {
		name  string
		query url.Values
		want  []string
	}{
		{"industry", url.Values{"industry": {acc.Industry}}, a.storeAccounts(alinea.AccountFilter{Industry: acc.Industry})},
		{"country", url.Values{"country": {acc.Country}}, a.storeAccounts(alinea.AccountFilter{Country: acc.Country})},
		{"owner", url.Values{"owner": {fmt.Sprint(owner.ID)}}, a.storeAccounts(alinea.AccountFilter{OwnerID: owner.ID})},
		{"industry and country", url.Values{"industry": {acc.Industry}, "country": {acc.Country}},
			a.storeAccounts(alinea.AccountFilter{Industry: acc.Industry, Country: acc.Country})},
		{"name, any case", url.Values{"q": {strings.ToUpper(acc.Name)}}, []string{fmt.Sprint(acc.ID)}},
		{"web address", url.Values{"q": {"https://www." + acc.Domain + "/contacto"}}, []string{fmt.Sprint(acc.ID)}},
	} {
		res := c.get("/accounts?" + tc.query.Encode())
		if res.status != http.StatusOK {
			t.Errorf("%s: status %d", tc.name, res.status)
			continue
		}
		want := tc.want
		if len(want) > 50 {
			want = want[:50]
		}
		if got := accountIDs(res.body); len(want) == 0 || !slices.Equal(got, want) {
			t.Errorf("%s (%s): lists %v, want %v", tc.name, tc.query.Encode(), got, want)
		}
		mustContain(t, tc.name, text(res.body), "Quitar filtros")
	}

	// The row shows the industry and country in Spanish and the contacts
	// the account has.
	res := c.get("/accounts?" + url.Values{"q": {acc.Name}}.Encode())
	row := text(regexpFind(`(?s)(<tr>\s*<td class="cell-name"><a href="/accounts/`+fmt.Sprint(acc.ID)+`">.*?</tr>)`, res.body))
	contacts, _, err := a.store.Contacts(ctx, alinea.ContactFilter{AccountID: acc.ID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	countries := map[string]string{"ES": "España", "MX": "México", "AR": "Argentina", "CO": "Colombia", "CL": "Chile", "PE": "Perú", "US": "Estados Unidos", "GB": "Reino Unido"}
	mustContain(t, "account row", row, acc.Name, acc.Domain, fmt.Sprintf("%s %d", countries[acc.Country], len(contacts)))

	none := c.get("/accounts?q=" + url.QueryEscape("no existe ninguna empresa así"))
	mustContain(t, "no match", text(none.body), "Ninguna cuenta coincide con estos filtros.")

	bad := c.get("/accounts?owner=nadie")
	if bad.status != http.StatusBadRequest {
		t.Errorf("owner=nadie: status %d, want 400", bad.status)
	}
	mustContain(t, "bad filter", text(bad.body), "La petición no es válida.")
}

// dealAccount is a demo account with contacts and both open and closed deals.
func (a *app) dealAccount() alinea.Account {
	a.t.Helper()
	ctx := context.Background()
	deals, _, err := a.store.Deals(ctx, alinea.DealFilter{Limit: 1000})
	if err != nil {
		a.t.Fatal(err)
	}
	statuses := map[int64]map[alinea.DealStatus]bool{}
	for _, d := range deals {
		if statuses[d.AccountID] == nil {
			statuses[d.AccountID] = map[alinea.DealStatus]bool{}
		}
		statuses[d.AccountID][d.Status] = true
	}
	for _, d := range deals {
		if s := statuses[d.AccountID]; d.AccountID != 0 && s[alinea.DealOpen] && (s[alinea.DealWon] || s[alinea.DealLost]) {
			acc, err := a.store.Account(ctx, d.AccountID)
			if err != nil {
				a.t.Fatal(err)
			}
			return acc
		}
	}
	a.t.Fatal("the demo has no account with open and closed deals")
	return alinea.Account{}
}

func TestAccountPageShowsContactsDealsAndSummary(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	acc := a.dealAccount()
	path := fmt.Sprintf("/accounts/%d", acc.ID)
	contacts, _, err := a.store.Contacts(ctx, alinea.ContactFilter{AccountID: acc.ID, Limit: 1000})
	if err != nil || len(contacts) == 0 {
		t.Fatalf("contacts of %s: %d %v", acc.Name, len(contacts), err)
	}
	deals, _, err := a.store.Deals(ctx, alinea.DealFilter{AccountID: acc.ID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := a.store.AccountSummary(ctx, acc.ID)
	if err != nil {
		t.Fatal(err)
	}

	for _, lang := range []struct {
		code                                string
		contacts, deals, summary, open, won string
		wonOn, stage                        string
		dealWord                            func(n int64) string
	}{
		{"es", "Contactos", "Oportunidades", "Resumen", "Pipeline abierto", "Ingresos ganados", "Ganada el", "Contactos por etapa",
			func(n int64) string { return map[bool]string{true: "oportunidad", false: "oportunidades"}[n == 1] }},
		{"en", "Contacts", "Deals", "Summary", "Open pipeline", "Won revenue", "Won on", "Contacts by stage",
			func(n int64) string { return map[bool]string{true: "deal", false: "deals"}[n == 1] }},
	} {
		c := a.signedIn(alinea.RoleMarketing, lang.code)
		res := c.get(path)
		if res.status != http.StatusOK {
			t.Fatalf("%s: GET %s: %d\n%s", lang.code, path, res.status, clip(text(res.body)))
		}
		page := text(res.body)
		mustContain(t, lang.code+" account page", page, acc.Name, acc.Domain, lang.contacts, lang.deals, lang.summary, lang.open, lang.won, lang.stage)
		for _, ct := range contacts {
			mustContain(t, lang.code+" contact link", res.body, fmt.Sprintf(`<a href="/contacts/%d">`, ct.ID))
		}
		for _, d := range deals {
			mustContain(t, lang.code+" deal", page, d.Name)
		}
		if sum.WonDeals > 0 {
			mustContain(t, lang.code+" won deal", page, lang.wonOn)
		}
		mustContain(t, lang.code+" open deal count", page, fmt.Sprintf("%d %s", sum.OpenDeals, lang.dealWord(sum.OpenDeals)))
	}

	// Amounts in the reader's format: the largest open currency.
	c := a.signedIn(alinea.RoleSales, "es")
	page := text(c.get(path).body)
	for _, amount := range sum.Open {
		sym := map[string]string{"EUR": "€", "USD": "US$"}[amount.Currency]
		if sym == "" {
			sym = amount.Currency
		}
		want := formatES(amount.Minor/100) + " " + sym
		if amount.Minor%100 != 0 {
			continue
		}
		mustContain(t, "open pipeline amount", page, want)
	}

	if res := c.get("/accounts/999999"); res.status != http.StatusNotFound {
		t.Errorf("unknown account: status %d, want 404", res.status)
	}
	if res := c.get("/accounts/abc"); res.status != http.StatusNotFound {
		t.Errorf("non-numeric account: status %d, want 404", res.status)
	}

	// The contact page links the company to this page.
	contact := c.get(contactPath(contacts[0].ID))
	mustContain(t, "company link on the contact page", contact.body, fmt.Sprintf(`<a href="/accounts/%d">%s</a>`, acc.ID, acc.Name))
}

func TestAccountPagePagesThroughContacts(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	acc, err := a.store.CreateAccount(ctx, alinea.AccountFields{Name: ptr("Muchos Contactos SA"), Domain: ptr("muchos.example")})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i := range 30 {
		ct, err := a.store.CreateContact(ctx, alinea.ContactFields{Email: ptr(fmt.Sprintf("p%02d@muchos.example", i)), FirstName: ptr(fmt.Sprintf("Persona %02d", i)),
			AccountID: ptr(acc.ID)}, alinea.Actor{Type: alinea.ActorAPI})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ct.ID)
	}
	c := a.signedIn(alinea.RoleSales, "en")
	first := c.get(fmt.Sprintf("/accounts/%d", acc.ID))
	mustContain(t, "count", text(first.body), "30 contacts", "This account has no deals.")
	if n := strings.Count(first.body, `<a href="/contacts/`); n != 25 {
		t.Errorf("first page shows %d contacts, want 25", n)
	}
	mustContain(t, "newest contact first", first.body, fmt.Sprintf(`<a href="/contacts/%d">Persona 29</a>`, ids[29]))
	older := pagerLink(first.body, "next")
	if older == "" {
		t.Fatal("no link to older contacts")
	}
	second := c.get(older)
	if n := strings.Count(second.body, `<a href="/contacts/`); n != 5 {
		t.Errorf("second page shows %d contacts, want 5", n)
	}
	mustContain(t, "oldest contact last", second.body, fmt.Sprintf(`<a href="/contacts/%d">Persona 00</a>`, ids[0]))
}

func ptr[T any](v T) *T { return &v }
