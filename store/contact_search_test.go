package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/store/storetest"
)

// searchModes are the ways a search can find a contact: one by one in the
// first contacts of the list (the default window holds all of these tests'
// contacts), from the index at once (window 0), and on SQLite before the
// background indexer has added the contacts (they are then always checked
// one by one) or after.
var searchModes = []struct {
	name    string
	window  int
	indexed bool
}{
	{"scan-unindexed", 2000, false},
	{"index-unindexed", 0, false},
	{"scan-indexed", 2000, true},
	{"index-indexed", 0, true},
}

// searchIDs runs a search and returns the ids found, following the cursor
// to the end with pages of limit.
func searchIDs(t *testing.T, s *store.Store, f alinea.ContactFilter, window, limit int) []int64 {
	t.Helper()
	ctx := context.Background()
	f.Limit = limit
	var ids []int64
	for range 1000 {
		page, next, err := s.ContactsWithWindow(ctx, f, window)
		if err != nil {
			t.Fatalf("search %q: %v", f.Search, err)
		}
		if len(page) > limit {
			t.Fatalf("search %q: page of %d, limit %d", f.Search, len(page), limit)
		}
		for _, c := range page {
			ids = append(ids, c.ID)
		}
		if next == 0 {
			return ids
		}
		if f.Before > 0 {
			f.Before = next
		} else {
			f.After = next
		}
	}
	t.Fatalf("search %q: the cursor never ends", f.Search)
	return nil
}

func newContact(t *testing.T, s *store.Store, first, last, email string) alinea.Contact {
	t.Helper()
	f := alinea.ContactFields{FirstName: &first, LastName: &last}
	if email != "" {
		f.Email = &email
	} else {
		f.ExternalID = ptr("ext-" + first)
	}
	c, err := s.CreateContact(context.Background(), f, alinea.Actor{Type: alinea.ActorAPI})
	if err != nil {
		t.Fatalf("create %s %s: %v", first, last, err)
	}
	return c
}

// indexAll brings the SQLite index up to date and checks it against the
// contacts table (FTS4's integrity-check compares every indexed row).
func indexAll(t *testing.T, s *store.Store) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.IndexContactSearch(ctx); err != nil {
		t.Fatal(err)
	}
	if s.Backend() == store.SQLite {
		db, _ := s.Handles()
		if _, err := db.ExecContext(ctx, `INSERT INTO contacts_search (contacts_search) VALUES ('integrity-check')`); err != nil {
			t.Fatalf("search index integrity: %v", err)
		}
	}
}

func TestContactSearchMatching(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		s := storetest.Open(t, b, store.Options{})
		people := map[string]alinea.Contact{}
		for _, p := range []struct{ key, first, last, email string }{
			{"jose", "José", "García López", "jose.garcia@acme.es"},
			{"mariajose", "María José", "Fernández", "mjfernandez@empresa.mx"},
			{"joseluis", "JOSÉ LUIS", "PÉREZ", "jl.perez@example.com"},
			{"ana", "Ana", "Smith", "ana.smith@example.com"},
			{"zoe", "Zoë", "Ångström-Núñez", "zoe@nordic.se"},
			{"celik", "Çelik", "Özgür", "celik@istanbul.com.tr"},
			{"bob", "Bob", "O'Brien", "bob.obrien@irish.ie"},
			{"noemail", "Íñigo", "Sin Correo", ""},
			{"numbers", "Luis", "Martín", "luis.martin1987@correo.es"},
		} {
			people[p.key] = newContact(t, s, p.first, p.last, p.email)
		}
		all := make([]string, 0, len(people))
		for k := range people {
			all = append(all, k)
		}
		cases := []struct {
			q    string
			want []string
		}{
			{"jose", []string{"jose", "mariajose", "joseluis"}},         // accents and case
			{"JOSÉ", []string{"jose", "mariajose", "joseluis"}},         // the other way round
			{"garc", []string{"jose"}},                                  // a prefix
			{"arcia", nil},                                              // not the middle of a word
			{"jose garcia", []string{"jose"}},                           // every word
			{"garcia jose", []string{"jose"}},                           // in any order
			{"lopez jose", []string{"jose"}},                            // across fields
			{"garcia.lopez", []string{"jose"}},                          // a phrase within a field
			{"jose.lopez", nil},                                         // not across fields
			{"jose.garcia@acme.es", []string{"jose"}},                   // a whole email
			{"@acme", []string{"jose"}},                                 // its domain
			{"example.com", []string{"joseluis", "ana"}},                // a domain of two
			{"smith jose", nil},                                         // both words required
			{"angstrom", []string{"zoe"}},                               // Å, Ö
			{"nunez", []string{"zoe"}},                                  // ñ, ú
			{"zoe", []string{"zoe"}},                                    // ë
			{"ozgur celik", []string{"celik"}},                          // Ö, ü, Ç
			{"o'brien", []string{"bob"}},                                // an apostrophe
			{"brien", []string{"bob"}},                                  // after it
			{"obrien", []string{"bob"}},                                 // the email's word
			{"inigo", []string{"noemail"}},                              // no email at all
			{"correo", []string{"noemail", "numbers"}},                  // a name and a domain
			{"martin1987", []string{"numbers"}},                         // letters and digits
			{"martin19", []string{"numbers"}},                           // their prefix
			{"1987", nil},                                               // digits inside a word
			{"  Ana   SMITH ", []string{"ana"}},                         // spaces
			{"%", all},                                                  // no letters: no search
			{"zzzznobody", nil},                                         // nothing
			{"a b c d e f g h i j k l m n o p", nil},                    // more words than are kept: still all required
			{"fernández mjfernandez empresa mx", []string{"mariajose"}}, // several words in several fields
		}
		for _, mode := range searchModes {
			if mode.indexed {
				indexAll(t, s)
			}
			for _, tc := range cases {
				want := make([]int64, 0, len(tc.want))
				for _, k := range tc.want {
					want = append(want, people[k].ID)
				}
				slices.Sort(want)
				got := searchIDs(t, s, alinea.ContactFilter{Search: tc.q}, mode.window, 3)
				if !slices.Equal(got, want) {
					t.Errorf("%s: search %q found %v, want %v", mode.name, tc.q, got, want)
				}
				slices.Reverse(want)
				got = searchIDs(t, s, alinea.ContactFilter{Search: tc.q, Before: 1 << 62}, mode.window, 2)
				if !slices.Equal(got, want) {
					t.Errorf("%s: search %q newest first found %v, want %v", mode.name, tc.q, got, want)
				}
			}
		}
	})
}

// TestContactSearchFollowsChanges: whatever writes a contact — the API, an
// identify call, a CSV import, a delete — the search finds it by what it
// is now and not by what it was, before and after it is indexed.
func TestContactSearchFollowsChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		s := storetest.Open(t, b, store.Options{})
		check := func(step, q string, want ...int64) {
			t.Helper()
			slices.Sort(want)
			for _, window := range []int{0, 2000} {
				got := searchIDs(t, s, alinea.ContactFilter{Search: q}, window, 50)
				if !slices.Equal(got, want) {
					t.Errorf("%s (window %d): search %q found %v, want %v", step, window, q, got, want)
				}
			}
		}
		for _, indexFirst := range []bool{false, true} {
			tag := fmt.Sprintf("r%t", indexFirst)
			ana := newContact(t, s, "Ana", "Olmedo"+tag, "ana.olmedo."+tag+"@viejo.es")
			luis := newContact(t, s, "Luis", "Quiroga"+tag, "luis.q."+tag+"@viejo.es")
			if indexFirst {
				indexAll(t, s)
			}

			// The API changes a name and an email.
			if _, err := s.UpdateContact(ctx, ana.ID, alinea.ContactFields{LastName: ptr("Beltrán" + tag), Email: ptr("ana.beltran." + tag + "@nuevo.es")}); err != nil {
				t.Fatal(err)
			}
			check(tag+" update", "olmedo"+tag)
			check(tag+" update", "beltran"+tag, ana.ID)
			check(tag+" update", "nuevo.es beltran"+tag, ana.ID)

			// An update that leaves the searched fields alone.
			if _, err := s.UpdateContact(ctx, ana.ID, alinea.ContactFields{JobTitle: ptr("CMO")}); err != nil {
				t.Fatal(err)
			}
			check(tag+" other field", "beltran"+tag, ana.ID)

			// Identify calls: new traits for a known user, and a new user
			// whose email is then linked to it.
			now := time.Now()
			msgs := []alinea.Message{
				{Type: "identify", MessageID: "id-1-" + tag, UserID: "u-luis-" + tag, Traits: json.RawMessage(`{"email":"luis.q.` + tag + `@viejo.es","firstName":"Luisa","lastName":"Quintana` + tag + `"}`), ReceivedAt: now},
				{Type: "identify", MessageID: "id-2-" + tag, UserID: "u-nora-" + tag, Traits: json.RawMessage(`{"firstName":"Nora","lastName":"Ibáñez` + tag + `"}`), ReceivedAt: now},
				{Type: "identify", MessageID: "id-3-" + tag, UserID: "u-nora-" + tag, Traits: json.RawMessage(`{"email":"nora.` + tag + `@ibanez.io"}`), ReceivedAt: now},
			}
			if _, err := s.Ingest(ctx, 0, msgs); err != nil {
				t.Fatal(err)
			}
			nora, _, err := s.Contacts(ctx, alinea.ContactFilter{Email: "nora." + tag + "@ibanez.io"})
			if err != nil || len(nora) != 1 {
				t.Fatalf("nora: %v %v", nora, err)
			}
			check(tag+" identify", "quiroga"+tag)
			check(tag+" identify", "luisa quintana"+tag, luis.ID)
			check(tag+" identify", "ibanez"+tag, nora[0].ID)
			check(tag+" identify", "nora."+tag+"@ibanez.io", nora[0].ID)

			// A CSV import updates one contact and adds another.
			res, err := s.UpsertContacts(ctx, []alinea.ContactFields{
				{Email: ptr("ana.beltran." + tag + "@nuevo.es"), FirstName: ptr("Anabel")},
				{Email: ptr("pilar." + tag + "@importada.es"), FirstName: ptr("Pilar"), LastName: ptr("Ureña" + tag)},
			}, alinea.Actor{Type: alinea.ActorImport})
			if err != nil || res.Created != 1 || res.Updated != 1 {
				t.Fatalf("import: %+v %v", res, err)
			}
			pilar, _, err := s.Contacts(ctx, alinea.ContactFilter{Email: "pilar." + tag + "@importada.es"})
			if err != nil || len(pilar) != 1 {
				t.Fatalf("pilar: %v %v", pilar, err)
			}
			check(tag+" import", "anabel beltran"+tag, ana.ID)
			check(tag+" import", "urena"+tag, pilar[0].ID)

			// A deleted contact is not found any more.
			if err := s.DeleteContact(ctx, luis.ID); err != nil {
				t.Fatal(err)
			}
			check(tag+" delete", "quintana"+tag)
			if indexFirst {
				indexAll(t, s)
			}
		}

		// The newest contact deleted, its id is given again (SQLite reuses
		// the highest rowid): the new contact must be found, the old not.
		indexAll(t, s)
		last := newContact(t, s, "Último", "Zabala", "ultimo@zabala.es")
		indexAll(t, s)
		if err := s.DeleteContact(ctx, last.ID); err != nil {
			t.Fatal(err)
		}
		again := newContact(t, s, "Otra", "Yáñez", "otra@yanez.es")
		check("reused id", "zabala")
		check("reused id", "yanez", again.ID)
		indexAll(t, s)
		check("reused id, indexed", "yanez", again.ID)
	})
}

// TestContactSearchPages: a search over contacts of which the older part
// is indexed and the newer not yet, paged in both directions with other
// filters, finds each match once and in order, whichever way it looks.
func TestContactSearchPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		s := storetest.Open(t, b, store.Options{})
		var matches, sqlMatches []int64
		for i := range 90 {
			last := "Otero"
			if i%3 == 0 {
				last = "Gárate"
			}
			c := newContact(t, s, fmt.Sprintf("Persona%d", i), last, fmt.Sprintf("p%d@pages.es", i))
			if i%3 == 0 {
				matches = append(matches, c.ID)
			}
			if i%5 == 0 {
				req := alinea.TransitionRequest{To: alinea.StageLead, Actor: alinea.Actor{Type: alinea.ActorAPI}}
				if _, err := s.Transition(ctx, c.ID, req); err != nil {
					t.Fatal(err)
				}
				if i%3 == 0 {
					sqlMatches = append(sqlMatches, c.ID)
				}
			}
			if i == 44 {
				indexAll(t, s)
			}
		}
		for _, window := range []int{0, 1, 7, 2000} {
			for _, limit := range []int{1, 4, 50} {
				for _, tc := range []struct {
					f    alinea.ContactFilter
					want []int64
				}{
					{alinea.ContactFilter{Search: "garate"}, matches},
					{alinea.ContactFilter{Search: "garate", Stage: alinea.StageLead}, sqlMatches},
				} {
					got := searchIDs(t, s, tc.f, window, limit)
					if !slices.Equal(got, tc.want) {
						t.Errorf("window %d, limit %d, %+v oldest first: %v, want %v", window, limit, tc.f, got, tc.want)
					}
					f := tc.f
					f.Before = 1 << 62
					got = searchIDs(t, s, f, window, limit)
					want := slices.Clone(tc.want)
					slices.Reverse(want)
					if !slices.Equal(got, want) {
						t.Errorf("window %d, limit %d, %+v newest first: %v, want %v", window, limit, tc.f, got, want)
					}
				}
			}
		}
	})
}

func TestSearchWordsSplitting(t *testing.T) {
	for _, tc := range []struct{ q, want string }{
		{"José", "[[josé]]"},
		{"ana.garcía@acme.es  López", "[[ana garcía acme es] [lópez]]"},
		{"-- % @", "[]"},
		{"O'Brien", "[[o brien]]"},
		{"Jose\u0301", "[[jose]]"},
	} {
		if got := fmt.Sprint(store.SearchWords(tc.q)); got != tc.want {
			t.Errorf("SearchWords(%q) = %s, want %s", tc.q, got, tc.want)
		}
	}
	if got := store.TSQuery([][]string{{"ana"}, {"garcia", "lopez"}}); !strings.Contains(got, "'ana':* & (") || !strings.Contains(got, "'garcia':B <-> 'lopez':*B") {
		t.Errorf("TSQuery = %s", got)
	}
}
