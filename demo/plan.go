package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/alinea-crm/alinea"
)

// The generator works in two steps. Planning draws every account, contact,
// event, transition, note and deal from one seeded random source into a
// list of timestamped actions; nothing touches the database, so the same
// seed and anchor always give the same plan. Replaying (demo.go) then sorts
// the actions by time and applies them through the store with its clock set
// to each action's moment, so history is recorded as if it had happened.

type actKind uint8

const (
	actAccount actKind = iota
	actContact
	actEvent
	actTransition
	actOwner
	actNote
	actDealCreate
	actDealMove
)

// writeKey says which write key an event arrives with.
type writeKey uint8

const (
	keyWebsite writeKey = iota // analytics.js on the website
	keyBackend                 // server-side: email, webinar platform, calls
)

type action struct {
	at      int64 // unix ms
	seq     int
	kind    actKind
	dropped bool
	person  *person
	account *account
	deal    *deal
	key     writeKey
	msg     *alinea.Message
	to      alinea.Stage
	reason  string
	why     map[string]any
	actor   actorRef
	user    int // owner or note author (index into staff)
	text    string
	stage   int // index into the open stages, or stageWon / stageLost
}

const (
	stageWon  = -1
	stageLost = -2
)

// actorRef is an alinea.Actor with the user given as an index into staff.
type actorRef struct {
	typ  alinea.ActorType
	user int
}

type account struct {
	name, domain, industry string
	ind                    *industry
	c                      *country
	employees              int
	owner                  int
	created                time.Time
	people                 []*person
	id                     int64
}

type device struct {
	anon, ua string
}

type person struct {
	idx                       int
	acct                      *account
	c                         *country
	first, last, email, title string
	phone, extID, source      string
	female                    bool
	seniority                 int
	consent                   alinea.Consent
	engagement                float64
	created                   time.Time
	imported                  bool
	devices                   []device
	stage                     alinea.Stage
	maxRank                   int
	buyAt                     time.Time // first time in buy mode, zero if never
	moves                     []move
	mutable                   []int // action indices a won deal may cut off
	inDeal                    bool
	owner                     int // while planning the journey
	leadEvent                 string
	initialStage              alinea.Stage
	initialActor              actorRef
	id                        int64
	lastWebinar               string
}

type move struct {
	at time.Time
	to alinea.Stage
}

type deal struct {
	acct          *account
	primary       *person
	committee     []*person
	roles         []string
	owner         int
	name          string
	amount        int64
	currency      string
	expectedClose string
	created       time.Time
	status        alinea.DealStatus
	closed        time.Time
	expansion     bool
	label         string // the plan, for notes
	seats         int
	id            int64
}

type webinar struct {
	id, title, slug, lang string
	at                    time.Time
}

type staffUser struct {
	email, name string
	role        alinea.Role
	locale      string
	territory   []string
}

// staff are the demo company's users; the indices below name them.
var staff = []staffUser{
	{"admin@" + staffDomain, "Lucía Fernández", alinea.RoleAdmin, "es", nil},
	{"marta.gomez@" + staffDomain, "Marta Gómez", alinea.RoleMarketing, "es", nil},
	{"james.walker@" + staffDomain, "James Walker", alinea.RoleMarketing, "en", nil},
	{"carlos.ruiz@" + staffDomain, "Carlos Ruiz", alinea.RoleSales, "es", []string{"ES"}},
	{"valentina.rojas@" + staffDomain, "Valentina Rojas", alinea.RoleSales, "es", []string{"MX", "CO", "PE"}},
	{"martin.acosta@" + staffDomain, "Martín Acosta", alinea.RoleSales, "es", []string{"AR", "CL"}},
	{"emily.clarke@" + staffDomain, "Emily Clarke", alinea.RoleSales, "en", []string{"US", "GB"}},
	{"ana.morales@" + staffDomain, "Ana Morales", alinea.RoleManager, "es", nil},
}

const (
	userMarketingES = 1
	userMarketingEN = 2
	userManager     = 7
)

type gen struct {
	r          *rand.Rand
	now, start time.Time
	openStages int

	acts     []action
	accounts []*account
	people   []*person
	deals    []*deal
	events   int

	webinars    map[string][]webinar
	newsletters map[string][]time.Time
	domains     map[string]bool
	names       map[string]bool
}

func newGen(seed int64, now time.Time, openStages int) *gen {
	g := &gen{
		r:           rand.New(rand.NewPCG(uint64(seed), 0x616c696e6561)), // "alinea"
		now:         now,
		start:       now.AddDate(-1, 0, 0),
		openStages:  openStages,
		webinars:    map[string][]webinar{},
		newsletters: map[string][]time.Time{},
		domains:     map[string]bool{},
		names:       map[string]bool{},
	}
	return g
}

// --- random helpers ---------------------------------------------------------

func pick[T any](g *gen, xs []T) T { return xs[g.r.IntN(len(xs))] }

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

func (g *gen) between(lo, hi int) int { return lo + g.r.IntN(hi-lo+1) }

func (g *gen) weighted(ws []float64) int {
	total := 0.0
	for _, w := range ws {
		total += w
	}
	x := g.r.Float64() * total
	for i, w := range ws {
		if x < w {
			return i
		}
		x -= w
	}
	return len(ws) - 1
}

func (g *gen) digits(n int) string { return g.digitsFrom("0123456789", n) }

func (g *gen) digitsFrom(set string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = set[g.r.IntN(len(set))]
	}
	return string(b)
}

func (g *gen) hex(n int) string { return g.digitsFrom("0123456789abcdef", n) }

// uuid returns a version-4-shaped UUID drawn from the seeded source.
func (g *gen) uuid() string {
	a, b := g.r.Uint64(), g.r.Uint64()
	a = a&^0xf000 | 0x4000
	b = b&^(0xc<<60) | 0x8<<60
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, (a>>16)&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}

// --- time helpers -------------------------------------------------------------

var monthWeight = [12]float64{1.0, 1.05, 1.15, 1.0, 1.1, 1.0, 0.8, 0.55, 1.1, 1.2, 1.15, 0.7}
var weekdayWeight = [7]float64{0.25, 1.05, 1.1, 1.1, 1.0, 0.85, 0.3}
var hourWeight = [24]float64{0.03, 0.02, 0.02, 0.02, 0.02, 0.03, 0.08, 0.2, 0.5, 0.95, 1, 1, 0.95, 0.75, 0.7, 0.9, 0.95, 0.85, 0.65, 0.5, 0.4, 0.35, 0.25, 0.1}

func days(d float64) time.Duration { return time.Duration(d * float64(24*time.Hour)) }

// seasonal draws a moment in [from, to) following the year's seasonality,
// the week's rhythm and the hours people are online, with a mild upward
// trend (marketing gets better over the year).
func (g *gen) seasonal(from, to time.Time, tz int) time.Time {
	span := to.Sub(from)
	if span <= time.Minute {
		return from
	}
	year := float64(g.now.Sub(g.start))
	for range 60 {
		t := from.Add(time.Duration(g.r.Int64N(int64(span))))
		local := t.Add(time.Duration(tz) * time.Hour)
		trend := 0.85 + 0.3*float64(t.Sub(g.start))/year
		w := monthWeight[local.Month()-1] * weekdayWeight[local.Weekday()] * hourWeight[local.Hour()] * trend
		if g.r.Float64()*1.6 < w {
			return t
		}
	}
	return from.Add(time.Duration(g.r.Int64N(int64(span))))
}

// humanTime moves t to a plausible moment for a person to be online: the
// same or the next day, at an hour drawn from hourWeight, never before t.
func (g *gen) humanTime(t time.Time, tz int) time.Time {
	off := time.Duration(tz) * time.Hour
	local := t.Add(off)
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.UTC)
	h := g.weighted(hourWeight[:])
	at := day.Add(time.Duration(h)*time.Hour + time.Duration(g.r.IntN(3600))*time.Second).Add(-off)
	if at.Before(t) {
		at = at.Add(24 * time.Hour)
	}
	return at
}

// workTime returns the first working moment (Monday to Friday, 9:00 to
// 19:00 at the given UTC offset) at or after t.
func (g *gen) workTime(t time.Time, tz int) time.Time {
	off := time.Duration(tz) * time.Hour
	local := t.Add(off)
	for range 4 {
		wd, h := local.Weekday(), local.Hour()
		weekend := wd == time.Saturday || wd == time.Sunday
		if !weekend && h >= 9 && h < 19 {
			break
		}
		day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.UTC)
		if weekend || h >= 9 {
			day = day.AddDate(0, 0, 1)
		}
		local = day.Add(9*time.Hour + time.Duration(g.r.IntN(180))*time.Minute + time.Duration(g.r.IntN(60))*time.Second)
	}
	return local.Add(-off)
}

// after returns a working moment lo to hi days after t.
func (g *gen) after(t time.Time, lo, hi float64, tz int) time.Time {
	return g.workTime(t.Add(days(lo+g.r.Float64()*(hi-lo))), tz)
}

// expDays draws an exponential delay with the given mean, capped.
func (g *gen) expDays(mean float64) time.Duration {
	return days(math.Min(-mean*math.Log(1-g.r.Float64()), 4*mean))
}

func (g *gen) past(t time.Time) bool { return t.Before(g.now) }

// --- actions --------------------------------------------------------------------

func (g *gen) add(a action) int {
	a.seq = len(g.acts)
	g.acts = append(g.acts, a)
	return a.seq
}

func (g *gen) at(t time.Time) int64 { return t.UnixMilli() }

// move plans a stage transition and checks it against the funnel's rules
// right away, so that a planning mistake fails loudly here and not as a
// store error half-way through the replay.
func (g *gen) move(p *person, t time.Time, to alinea.Stage, actor actorRef, reason string, why map[string]any, d *deal) {
	if err := alinea.CheckTransition(p.stage, to, reason); err != nil {
		panic(fmt.Sprintf("demo plan: contact %d: %s -> %s: %v", p.idx, p.stage, to, err))
	}
	i := g.add(action{at: g.at(t), kind: actTransition, person: p, to: to, reason: reason, why: why, actor: actor, deal: d})
	p.mutable = append(p.mutable, i)
	p.moves = append(p.moves, move{t, to})
	p.stage = to
	if r := to.Rank(); r > p.maxRank {
		p.maxRank = r
	}
	if to.Mode() == alinea.ModeBuy && p.buyAt.IsZero() {
		p.buyAt = t
	}
}

func (g *gen) setOwner(p *person, t time.Time, user int) {
	p.owner = user
	p.mutable = append(p.mutable, g.add(action{at: g.at(t), kind: actOwner, person: p, user: user}))
}

func (g *gen) note(p *person, t time.Time, author int, situation string, d *deal) {
	if !g.past(t) {
		return
	}
	lang := p.c.lang
	text := pick(g, notes[situation][lang])
	months := esMonths
	if lang == "en" {
		months = enMonths
	}
	features := esFeatures
	if lang == "en" {
		features = enFeatures
	}
	later := t.AddDate(0, g.between(2, 5), 0)
	seats, label := g.between(4, 40), ""
	if d != nil {
		seats, label = d.seats, d.label
	}
	r := strings.NewReplacer(
		"{webinar}", p.lastWebinar,
		"{industry}", industryLabel(p.acct.ind, lang),
		"{employees}", fmt.Sprint(p.acct.employees),
		"{feature}", pick(g, features),
		"{rep}", strings.Fields(staff[p.acct.owner].name)[0],
		"{first}", strings.Fields(p.first)[0],
		"{seats}", fmt.Sprint(seats),
		"{month}", months[later.Month()-1],
		"{plan}", label,
		"{competitor}", pick(g, competitors),
	)
	p.mutable = append(p.mutable, g.add(action{at: g.at(t), kind: actNote, person: p, user: author, text: r.Replace(text)}))
}

func industryLabel(ind *industry, lang string) string {
	if lang == "en" {
		return ind.en
	}
	return ind.es
}

func userActor(u int) actorRef { return actorRef{alinea.ActorUser, u} }

var ruleActor = actorRef{typ: alinea.ActorRule}

func (g *gen) marketer(p *person) int {
	if p.c.lang == "en" {
		return userMarketingEN
	}
	return userMarketingES
}

// --- accounts and people ------------------------------------------------------------

func (g *gen) planAccounts(n int) {
	cw := make([]float64, len(countries))
	for i, c := range countries {
		cw[i] = c.weight
	}
	iw := make([]float64, len(industries))
	for i, ind := range industries {
		iw[i] = ind.weight
	}
	for len(g.accounts) < n {
		c := &countries[g.weighted(cw)]
		ind := &industries[g.weighted(iw)]
		name := g.companyName(c, ind)
		if g.names[name] {
			continue
		}
		domain := g.domainFor(name, c)
		if domain == "" {
			continue
		}
		g.names[name] = true
		g.domains[domain] = true
		a := &account{name: name, domain: domain, industry: ind.name, ind: ind, c: c, employees: g.employees()}
		for u, s := range staff {
			for _, code := range s.territory {
				if code == c.code {
					a.owner = u
				}
			}
		}
		g.accounts = append(g.accounts, a)
	}
}

func (g *gen) companyName(c *country, ind *industry) string {
	if c.lang == "es" {
		switch g.weighted([]float64{35, 12, 13, 25, 15}) {
		case 0:
			return pick(g, ind.esNouns) + " " + pick(g, c.adjectives)
		case 1:
			return pick(g, ind.esNouns) + " " + pick(g, c.places)
		case 2:
			name := "Grupo " + pick(g, esGroupAdjectives)
			if g.chance(0.5) {
				name += " " + pick(g, ind.esWords)
			}
			return name
		case 3:
			return pick(g, esBrands) + " " + pick(g, ind.esWords)
		default:
			s := pick(g, esLast)
			return pick(g, []string{s + " y Asociados", "Hermanos " + s, s + " " + pick(g, ind.esWords), "Grupo " + s})
		}
	}
	switch g.weighted([]float64{55, 10, 15, 10, 10}) {
	case 0:
		return pick(g, enBrands) + " " + pick(g, ind.enWords)
	case 1:
		return pick(g, enLast) + " & " + pick(g, enLast)
	case 2:
		return pick(g, enLast) + " " + pick(g, ind.enWords)
	case 3:
		return pick(g, enBrands) + " Group"
	default:
		return pick(g, enBrands) + " & " + pick(g, enBrands)
	}
}

var stopWords = map[string]bool{"y": true, "de": true, "del": true, "los": true, "la": true, "the": true, "&": true}

func (g *gen) domainFor(name string, c *country) string {
	var words []string
	for _, w := range strings.Fields(name) {
		if !stopWords[strings.ToLower(w)] {
			if s := slug(w); s != "" {
				words = append(words, s)
			}
		}
	}
	if len(words) > 2 && len(strings.Join(words, "")) > 20 {
		words = words[:2]
	}
	sep := ""
	if g.chance(0.25) {
		sep = "-"
	}
	base := strings.Join(words, sep)
	tld := pick(g, c.tlds)
	for _, d := range []string{base + tld, base + "." + strings.ToLower(c.code), base + "group" + tld, base + g.digits(2) + tld} {
		if !g.domains[d] {
			return d
		}
	}
	return ""
}

// employees follows the shape of a B2B market: many small companies, a
// long tail of large ones.
func (g *gen) employees() int {
	buckets := [][2]float64{{2, 10}, {11, 50}, {51, 250}, {251, 1000}, {1001, 5000}, {5001, 20000}}
	b := buckets[g.weighted([]float64{12, 38, 30, 13, 6, 1})]
	n := math.Exp(math.Log(b[0]) + g.r.Float64()*(math.Log(b[1])-math.Log(b[0])))
	switch {
	case n > 1000:
		return int(math.Round(n/50) * 50)
	case n > 100:
		return int(math.Round(n/5) * 5)
	}
	return int(n)
}

var foldAccents = strings.NewReplacer("á", "a", "é", "e", "í", "i", "ó", "o", "ú", "u", "ü", "u", "ñ", "n", "ç", "c")

// slug keeps the lower-case ASCII letters, digits and dashes of s, accents
// folded.
func slug(s string) string {
	s = foldAccents.Replace(strings.ToLower(s))
	var b strings.Builder
	for _, r := range s {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '-' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

var sources = []string{"organic", "paid_search", "social", "webinar", "referral", "event", "outbound"}
var sourceWeights = []float64{24, 17, 14, 12, 10, 8, 15}

var tradeShows = []string{"Congreso de Marketing B2B Madrid", "Expo Ventas CDMX", "Foro Comercial Bogotá", "Sales Summit London", "B2B Growth Expo New York", "Encuentro Pymes Santiago", "Feria Digital Buenos Aires"}

func (g *gen) planPeople(n int) {
	// Every account gets one contact; the rest go to larger accounts more often.
	weights := make([]float64, len(g.accounts))
	for i, a := range g.accounts {
		weights[i] = math.Sqrt(float64(a.employees)) + 2
	}
	cum := make([]float64, len(weights))
	total := 0.0
	for i, w := range weights {
		total += w
		cum[i] = total
	}
	for i := 0; i < n; i++ {
		var a *account
		if i < len(g.accounts) {
			a = g.accounts[i]
		} else {
			x := g.r.Float64() * total
			a = g.accounts[sort.SearchFloat64s(cum, x)]
			if len(a.people) >= a.employees {
				a = g.accounts[g.r.IntN(len(g.accounts))]
			}
		}
		p := g.newPerson(i, a)
		a.people = append(a.people, p)
		g.people = append(g.people, p)
	}
	// Accounts appear just before their first contact.
	for _, a := range g.accounts {
		first := a.people[0].created
		for _, p := range a.people {
			if p.created.Before(first) {
				first = p.created
			}
		}
		a.created = first.Add(-time.Duration(g.between(1, 90)) * time.Minute)
		if a.created.Before(g.start) {
			a.created = g.start
		}
		g.add(action{at: g.at(a.created), kind: actAccount, account: a})
	}
}

func (g *gen) newPerson(i int, a *account) *person {
	c := a.c
	p := &person{idx: i, acct: a, c: c, female: g.chance(0.48), maxRank: -1}
	if c.lang == "es" {
		if p.female {
			p.first = pick(g, esFemale)
		} else {
			p.first = pick(g, esMale)
		}
		p.last = pick(g, esLast)
		twoSurnames := 0.25
		if c.code == "ES" {
			twoSurnames = 0.45
		}
		if second := pick(g, esLast); second != p.last && g.chance(twoSurnames) {
			p.last += " " + second
		}
	} else {
		if p.female {
			p.first = pick(g, enFemale)
		} else {
			p.first = pick(g, enMale)
		}
		p.last = pick(g, enLast)
	}
	p.seniority = g.weighted([]float64{40, 35, 17, 8})
	if a.employees <= 10 && p.seniority < 3 && g.chance(0.4) {
		p.seniority = 3 // at small companies the founder answers
	}
	if c.lang == "es" {
		t := pick(g, esTitles[p.seniority])
		p.title = t.m
		if p.female && t.f != "" {
			p.title = t.f
		}
	} else {
		p.title = pick(g, enTitles[p.seniority])
	}
	p.email = g.email(p, a.domain)
	if g.chance(0.75) {
		p.phone = c.phone(g)
	}
	p.extID = "usr_" + g.hex(12)
	p.source = sources[g.weighted(sourceWeights)]
	p.engagement = math.Pow(g.r.Float64(), 1.6)
	switch p.source {
	case "referral":
		p.engagement += 0.15
	case "webinar":
		p.engagement += 0.1
	case "outbound":
		p.engagement -= 0.1
	}
	p.engagement = math.Max(0, math.Min(1, p.engagement))
	// The first week imports the company's existing database.
	p.imported = p.source != "outbound" && p.source != "webinar" && g.chance(0.2)
	if p.imported {
		p.created = g.start.Add(days(g.r.Float64() * 7))
	} else {
		p.created = g.seasonal(g.start.Add(days(7)), g.now.Add(-days(1)), c.tz)
	}
	switch {
	case p.source == "outbound" || p.source == "event":
		p.consent = []alinea.Consent{alinea.ConsentUnknown, alinea.ConsentGranted, alinea.ConsentDenied}[g.weighted([]float64{60, 30, 10})]
	case p.imported:
		p.consent = []alinea.Consent{alinea.ConsentGranted, alinea.ConsentUnknown, alinea.ConsentDenied}[g.weighted([]float64{60, 30, 10})]
	default:
		p.consent = []alinea.Consent{alinea.ConsentGranted, alinea.ConsentUnknown, alinea.ConsentDenied}[g.weighted([]float64{85, 10, 5})]
	}
	p.devices = []device{{anon: g.uuid(), ua: pick(g, userAgents)}}
	if g.chance(0.2) {
		p.devices = append(p.devices, device{anon: g.uuid(), ua: pick(g, userAgents)})
	}
	return p
}

func (g *gen) email(p *person, domain string) string {
	f := slug(strings.Fields(p.first)[0])
	if fs := strings.Fields(p.first); len(fs) > 1 && g.chance(0.5) {
		f = slug(p.first)
	}
	l := slug(strings.Fields(p.last)[0])
	var local string
	switch g.weighted([]float64{50, 20, 10, 8, 12}) {
	case 0:
		local = f + "." + l
	case 1:
		local = f[:1] + l
	case 2:
		local = f
	case 3:
		local = f + "_" + l
	default:
		local = f + "." + l[:1]
	}
	addr := local + "@" + domain
	for i := 2; g.names["@"+addr]; i++ {
		addr = fmt.Sprintf("%s%d@%s", local, i, domain)
	}
	g.names["@"+addr] = true
	return addr
}
