package demo

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/alinea-crm/alinea"
)

// The funnel the demo follows is the one seed 003 gives as an example of a
// revenue agreement: a lead is marketing-qualified (MQL) once it registered
// for a webinar and watched it; sales-qualified (SQL) once, after that, it
// downloaded the price list and started a trial. More engaged contacts get
// further, faster.

var (
	whyMQL = map[string]any{"rules": []string{"Webinar Registered", "Webinar Attended"}, "definition": "registered for a webinar and attended it"}
	whySQL = map[string]any{"rules": []string{"Price List Downloaded", "Trial Started"}, "definition": "downloaded the price list and started a trial"}
	whyUI  = map[string]any{"via": "ui"}
)

func (g *gen) planWebinars() {
	for _, lang := range []string{"es", "en"} {
		titles, every, hour := esWebinarTitles, [2]int{21, 28}, 15
		if lang == "en" {
			titles, every, hour = enWebinarTitles, [2]int{35, 42}, 17
		}
		t := g.start.AddDate(0, 0, 10)
		for i := 0; ; i++ {
			day := time.Date(t.Year(), t.Month(), t.Day(), hour, 0, 0, 0, time.UTC)
			for day.Weekday() < time.Tuesday || day.Weekday() > time.Thursday {
				day = day.AddDate(0, 0, 1)
			}
			if !day.Before(g.now.AddDate(0, 0, 40)) {
				break
			}
			title := titles[i%len(titles)]
			g.webinars[lang] = append(g.webinars[lang], webinar{
				id: fmt.Sprintf("wbn-%s-%s", lang, day.Format("2006-01-02")), title: title, slug: slug(strings.ReplaceAll(title, " ", "-")), lang: lang, at: day,
			})
			t = day.AddDate(0, 0, g.between(every[0], every[1]))
		}
	}
	for _, lang := range []string{"es", "en"} {
		for m := g.start; m.Before(g.now); m = m.AddDate(0, 1, 0) {
			// The second Tuesday (es) or Thursday (en) of each month.
			want, hour := time.Tuesday, 8
			if lang == "en" {
				want, hour = time.Thursday, 14
			}
			d := time.Date(m.Year(), m.Month(), 1, hour, 0, 0, 0, time.UTC)
			for d.Weekday() != want {
				d = d.AddDate(0, 0, 1)
			}
			d = d.AddDate(0, 0, 7)
			if !d.Before(g.start) && d.Before(g.now) {
				g.newsletters[lang] = append(g.newsletters[lang], d)
			}
		}
	}
}

// nextWebinar returns the first webinar in lang at or after t.
func (g *gen) nextWebinar(lang string, t time.Time) *webinar {
	ws := g.webinars[lang]
	i := sort.Search(len(ws), func(i int) bool { return !ws[i].at.Before(t) })
	if i == len(ws) {
		return nil
	}
	return &ws[i]
}

func (g *gen) conversionFor(source string) string {
	switch source {
	case "organic":
		return []string{"newsletter", "ebook"}[g.weighted([]float64{45, 55})]
	case "paid_search":
		return []string{"ebook", "newsletter", "demo"}[g.weighted([]float64{50, 15, 35})]
	case "social":
		return []string{"ebook", "webinar"}[g.weighted([]float64{60, 40})]
	case "webinar":
		return "webinar"
	default: // referral
		return []string{"demo", "ebook"}[g.weighted([]float64{60, 40})]
	}
}

// campaignForSource picks the campaign that brought a contact in.
func (g *gen) campaignForSource(source, lang string, t time.Time) *campaignCtx {
	switch source {
	case "paid_search":
		return g.campaignFor(lang, t, func(c *campaign) bool { return c.medium == "cpc" })
	case "social":
		return g.campaignFor(lang, t, func(c *campaign) bool { return c.medium == "paid-social" })
	case "webinar":
		return g.campaignFor(lang, t, func(c *campaign) bool { return c.landing == "webinar" })
	}
	return nil
}

func (g *gen) device(p *person) int {
	if len(p.devices) > 1 && g.chance(0.35) {
		return 1
	}
	return 0
}

// journey plans one contact's life from creation to the anchor.
func (g *gen) journey(p *person) {
	tz, lang := p.c.tz, p.c.lang
	t := p.created
	web := !p.imported && p.source != "event" && p.source != "outbound"
	var pending *webinar
	initial := alinea.StageLead
	actor := actorRef{typ: alinea.ActorAPI}
	conv := ""
	switch {
	case web:
		conv = g.conversionFor(p.source)
		if conv == "webinar" {
			if pending = g.nextWebinar(lang, t.Add(24*time.Hour)); pending == nil {
				conv = "ebook"
			}
		}
		if conv == "newsletter" {
			initial = alinea.StageSubscriber
		}
	case p.imported:
		actor = actorRef{typ: alinea.ActorImport}
		if g.chance(0.4) {
			initial = alinea.StageSubscriber
		}
	case p.source == "event":
		actor = actorRef{typ: alinea.ActorImport}
		shows := tradeShows[:3]
		switch p.c.code {
		case "US", "GB":
			shows = tradeShows[3:5]
		case "CL", "AR":
			shows = tradeShows[5:]
		}
		p.leadEvent = pick(g, shows)
	default: // outbound: prospected by the account's rep
		actor = userActor(p.acct.owner)
	}
	p.initialStage, p.initialActor, p.owner = initial, actor, g.marketer(p)
	g.add(action{at: g.at(t), kind: actContact, person: p})
	p.stage, p.maxRank = initial, initial.Rank()
	p.moves = append(p.moves, move{t, initial})

	if web {
		t = g.convert(p, t, conv, pending)
	} else {
		g.identify(p, t.Add(time.Duration(g.between(1, 10))*time.Minute), nil)
		if p.source == "outbound" {
			g.salesSequence(p, t)
		}
	}

	attempts := 0
	for g.past(t) {
		switch p.stage {
		case alinea.StageSubscriber:
			t = g.humanTime(t.Add(g.expDays(40+100*(1-p.engagement))), tz)
			if !g.past(t) {
				return
			}
			if g.chance(0.6) {
				t = g.downloadEbook(p, t)
				g.move(p, t.Add(time.Second), alinea.StageLead, ruleActor, "", map[string]any{"rules": []string{"Ebook Downloaded"}}, nil)
			} else {
				w := g.nextWebinar(lang, t.Add(48*time.Hour))
				if w == nil {
					return
				}
				t = g.registerWebinar(p, t, w)
				g.move(p, t.Add(time.Second), alinea.StageLead, ruleActor, "", map[string]any{"rules": []string{"Webinar Registered"}}, nil)
				pending = w
			}

		case alinea.StageLead, alinea.StageRecycled:
			if pending != nil {
				w := pending
				pending = nil
				if !g.past(w.at) {
					return
				}
				t = w.at.Add(time.Hour)
				if g.chance(0.2 + 0.45*p.engagement) {
					end := g.attendWebinar(p, w)
					g.move(p, end.Add(time.Duration(g.between(1, 30))*time.Minute), alinea.StageMQL, ruleActor, "", whyMQL, nil)
					if g.chance(0.1) {
						g.note(p, g.after(end, 0, 1, tz), g.marketer(p), "mql", nil)
					}
					t = end
				}
				continue
			}
			attempts++
			if attempts > 4 {
				return
			}
			if p.stage == alinea.StageLead && g.chance(0.03) {
				at := g.after(t, 1, 20, tz)
				if g.past(at) {
					g.move(p, at, alinea.StageDisqualified, userActor(g.marketer(p)), pick(g, []string{"invalid_contact", "competitor", "student"}), whyUI, nil)
				}
				return
			}
			mean := 30 + 120*(1-p.engagement)
			if p.stage == alinea.StageRecycled {
				mean += 45
			}
			t = g.humanTime(t.Add(g.expDays(mean)), tz)
			if !g.past(t) {
				return
			}
			if g.chance(0.35) {
				t = g.downloadEbook(p, t)
				t = g.humanTime(t.Add(days(2+g.r.Float64()*18)), tz)
			}
			if !g.chance(0.1 + 0.4*p.engagement) {
				continue
			}
			w := g.nextWebinar(lang, t.Add(48*time.Hour))
			if w == nil {
				return
			}
			t = g.registerWebinar(p, t, w)
			pending = w

		case alinea.StageMQL:
			rep := p.acct.owner
			at := g.after(t, 0.2, 4, tz)
			if !g.past(at) {
				return
			}
			switch {
			case g.chance(0.5 + 0.4*p.engagement):
				g.move(p, at, alinea.StageSAL, userActor(rep), "", whyUI, nil)
				g.setOwner(p, at, rep)
				if g.chance(0.2) {
					g.note(p, at.Add(20*time.Minute), rep, "sal", nil)
				}
			case g.chance(0.85):
				reason := recycleReasons[g.weighted([]float64{35, 20, 25, 20})]
				g.move(p, at, alinea.StageRecycled, userActor(rep), reason, whyUI, nil)
				g.recycled(p, at, rep, reason)
			default:
				g.move(p, at, alinea.StageDisqualified, userActor(rep), pick(g, []string{"bad_fit", "competitor"}), whyUI, nil)
				if g.chance(0.5) {
					g.note(p, at.Add(5*time.Minute), rep, "bad_fit", nil)
				}
				return
			}
			t = at

		case alinea.StageSAL:
			t = g.salesContact(p, t)
			if g.chance(0.25 + 0.45*p.engagement) {
				end, ok := g.qualify(p, t)
				if !ok {
					return
				}
				g.move(p, end.Add(time.Duration(g.between(1, 20))*time.Minute), alinea.StageSQL, ruleActor, "", whySQL, nil)
				if g.chance(0.2) {
					g.note(p, g.after(end, 0, 2, tz), p.acct.owner, "sql", nil)
				}
				t = end.Add(30 * time.Minute)
			} else {
				if g.chance(0.3) {
					g.pricingVisit(p, g.humanTime(t.Add(days(2+g.r.Float64()*10)), tz), g.chance(0.4))
				}
				at := g.after(t, 20, 50, tz)
				if !g.past(at) {
					return
				}
				reason := []string{"no_response", "not_ready", "no_budget"}[g.weighted([]float64{45, 35, 20})]
				g.move(p, at, alinea.StageRecycled, userActor(p.acct.owner), reason, whyUI, nil)
				g.recycled(p, at, p.acct.owner, reason)
				t = at
			}

		case alinea.StageSQL:
			rep := p.acct.owner
			if !g.chance(0.9) {
				at := g.after(t, 10, 30, tz)
				if !g.past(at) {
					return
				}
				reason := pick(g, []string{"no_budget", "not_ready"})
				g.move(p, at, alinea.StageRecycled, userActor(rep), reason, whyUI, nil)
				g.recycled(p, at, rep, reason)
				t = at
				continue
			}
			at := g.after(t, 1, 6, tz)
			if !g.past(at) {
				return
			}
			d := g.openDeal(p, at, false)
			g.move(p, at.Add(time.Second), alinea.StageOpportunity, userActor(rep), "", whyUI, d)
			end, reason := g.playDeal(d, p)
			switch d.status {
			case alinea.DealOpen:
				return
			case alinea.DealWon:
				g.move(p, end.Add(time.Minute), alinea.StageCustomer, actorRef{typ: alinea.ActorSystem}, "", map[string]any{"event": "deal_won"}, d)
				if g.chance(0.5) {
					g.note(p, end.Add(30*time.Minute), rep, "won", d)
				}
				t = end.Add(time.Minute)
			case alinea.DealLost:
				if g.chance(0.6) {
					g.note(p, end.Add(15*time.Minute), rep, reason, d)
				}
				back := g.after(end, 0, 3, tz)
				if !g.past(back) {
					return
				}
				if g.chance(0.1) {
					g.move(p, back, alinea.StageDisqualified, userActor(rep), "bad_fit", whyUI, nil)
					return
				}
				mapped := map[string]string{"price": "no_budget", "competitor": "bad_fit", "timing": "not_ready", "no_decision": "no_response"}[reason]
				g.move(p, back, alinea.StageRecycled, userActor(rep), mapped, map[string]any{"via": "ui", "deal_lost": reason}, nil)
				g.recycled(p, back, rep, "")
				t = back
			}

		case alinea.StageCustomer:
			if g.chance(0.15) {
				at := g.after(t, 30, 120, p.c.tz)
				if g.past(at) {
					g.move(p, at, alinea.StageEvangelist, userActor(p.acct.owner), "", map[string]any{"via": "ui", "program": "customer_story"}, nil)
					if g.chance(0.7) {
						g.note(p, at.Add(2*time.Hour), g.marketer(p), "evangelist", nil)
					}
				}
			}
			if g.chance(0.2) {
				at := g.after(t, 60, 200, p.c.tz)
				if g.past(at) {
					d := g.openDeal(p, at, true)
					g.playDeal(d, p)
				}
			}
			return

		default: // evangelist, disqualified
			return
		}
	}
}

// convert plans the visit in which a web contact filled in a form, with
// anonymous visits before it; it returns when the contact was identified.
func (g *gen) convert(p *person, t time.Time, conv string, w *webinar) time.Time {
	lang, tz := p.c.lang, p.c.tz
	v := g.visitorOf(p, 0, false)
	if g.chance(0.55) {
		for i := g.between(1, 3); i >= 1; i-- {
			at := g.humanTime(t.Add(-days(float64(i*g.between(2, 12)))), tz)
			if at.Before(t.Add(-time.Hour)) && !at.Before(g.start) {
				g.visit(v, at, g.between(1, 4), false, 0.3)
			}
		}
	}
	camp := g.campaignForSource(p.source, lang, t)
	eb := g.ebook(lang)
	var landing pageView
	switch {
	case w != nil:
		landing = g.webinarPage(w)
	case conv == "ebook":
		landing = g.ebookPage(eb, lang)
	case conv == "demo":
		landing = g.pageBase("demo", lang)
	case camp != nil:
		landing = g.page(campaignLanding(camp.Name), lang)
	default:
		landing = g.page("blog", lang)
	}
	ref := ""
	if camp == nil && p.source == "organic" {
		ref = "https://www.google.com/"
	} else if p.source == "referral" {
		ref = "https://saas-academy.example/directory"
	}
	pv, _, _ := g.session(v, t.Add(-time.Duration(g.between(2, 8))*time.Minute), sessionOpts{landing: landing, camp: camp, referrer: ref, pages: g.between(1, 2)})
	if w != nil || conv == "ebook" || conv == "demo" {
		pv = landing
	}
	v.userID = p.extID
	g.identify(p, t.Add(time.Second), &v)
	at := t.Add(2 * time.Second)
	switch conv {
	case "newsletter":
		g.trackWeb(v, at, "Newsletter Subscribed", map[string]any{"list": "newsletter-" + lang}, pv, camp)
	case "ebook":
		g.trackWeb(v, at, "Ebook Downloaded", map[string]any{"ebook_id": eb.slug, "title": eb.title, "language": lang}, pv, camp)
	case "demo":
		g.trackWeb(v, at, "Demo Requested", map[string]any{"team_size": teamSize(p.acct.employees)}, pv, camp)
	case "webinar":
		g.trackWeb(v, at, "Webinar Registered", webinarProps(w), pv, camp)
		p.lastWebinar = w.title
	}
	return at
}

func teamSize(employees int) string {
	switch {
	case employees <= 10:
		return "1-10"
	case employees <= 50:
		return "11-50"
	case employees <= 250:
		return "51-250"
	case employees <= 1000:
		return "251-1000"
	}
	return "1000+"
}

func webinarProps(w *webinar) map[string]any {
	return map[string]any{"webinar_id": w.id, "title": w.title, "language": w.lang, "starts_at": w.at.Format(time.RFC3339)}
}

func (g *gen) registerWebinar(p *person, t time.Time, w *webinar) time.Time {
	v := g.visitorOf(p, g.device(p), true)
	var camp *campaignCtx
	if g.chance(0.6) {
		camp = g.campaignFor(w.lang, t, func(c *campaign) bool { return c.landing == "webinar" || c.medium == "email" })
	}
	pv := g.webinarPage(w)
	_, end, _ := g.session(v, t, sessionOpts{landing: pv, camp: camp, pages: 1})
	end = end.Add(time.Duration(20+g.r.IntN(100)) * time.Second)
	g.trackWeb(v, end, "Webinar Registered", webinarProps(w), pv, camp)
	p.lastWebinar = w.title
	return end
}

// attendWebinar records the webinar platform's attendance and returns
// when the contact left.
func (g *gen) attendWebinar(p *person, w *webinar) time.Time {
	at := w.at.Add(time.Duration(g.r.IntN(8*60)) * time.Second)
	minutes := g.between(20, 60)
	g.trackServer(p, at, "Webinar Attended", map[string]any{"webinar_id": w.id, "title": w.title, "minutes_watched": minutes}, nil)
	return at.Add(time.Duration(minutes) * time.Minute)
}

func (g *gen) downloadEbook(p *person, t time.Time) time.Time {
	lang := p.c.lang
	v := g.visitorOf(p, g.device(p), true)
	e := g.ebook(lang)
	var camp *campaignCtx
	if g.chance(0.4) {
		camp = g.campaignFor(lang, t, func(c *campaign) bool { return c.landing == "ebook" })
	}
	pv := g.ebookPage(e, lang)
	_, end, _ := g.session(v, t, sessionOpts{landing: pv, camp: camp, pages: 1})
	end = end.Add(time.Duration(30+g.r.IntN(90)) * time.Second)
	g.trackWeb(v, end, "Ebook Downloaded", map[string]any{"ebook_id": e.slug, "title": e.title, "language": lang}, pv, camp)
	return end
}

// recycled plans what follows a lead sent back to marketing: the owner
// changes back, the rep may explain why, and nurture emails follow.
func (g *gen) recycled(p *person, at time.Time, rep int, reason string) {
	if p.owner != g.marketer(p) {
		g.setOwner(p, at, g.marketer(p))
	}
	if reason != "" && g.chance(0.3) {
		g.note(p, at.Add(10*time.Minute), rep, reason, nil)
	}
	if g.chance(0.1) {
		g.note(p, g.after(at, 0.5, 3, p.c.tz), g.marketer(p), "recycled_marketing", nil)
	}
	if p.consent != alinea.ConsentGranted {
		return
	}
	t := at
	for i := 1; i <= 2; i++ {
		t = g.after(t, 7, 21, p.c.tz)
		if g.chance(0.2 + 0.4*p.engagement) {
			g.emailOpen(p, g.humanTime(t, p.c.tz), fmt.Sprintf("nurture-%d-%s", i, p.c.lang), g.nurtureSubject(p.c.lang, i), "nurture-leads")
		}
	}
}

func (g *gen) nurtureSubject(lang string, i int) string {
	if lang == "en" {
		return []string{"", "Still thinking about your funnel?", "Three resources for your next quarter"}[i]
	}
	return []string{"", "¿Sigues pensando en tu embudo?", "Tres recursos para el próximo trimestre"}[i]
}

// emailOpen plans an opened marketing email, maybe clicked through to the
// website.
func (g *gen) emailOpen(p *person, at time.Time, emailID, subject, campaignName string) {
	camp := &campaignCtx{Source: "newsletter", Medium: "email", Name: campaignName}
	props := map[string]any{"email_id": emailID, "subject": subject}
	g.trackServer(p, at, "Email Opened", props, camp)
	if !g.chance(0.12 + 0.35*p.engagement) {
		return
	}
	click := at.Add(time.Duration(5+g.r.IntN(300)) * time.Second)
	pv := g.page(campaignLanding(campaignName), p.c.lang)
	g.trackServer(p, click, "Email Clicked", map[string]any{"email_id": emailID, "subject": subject, "url": siteURL + pv.path}, camp)
	v := g.visitorOf(p, g.device(p), true)
	buy := !p.buyAt.IsZero() && click.After(p.buyAt)
	g.session(v, click.Add(3*time.Second), sessionOpts{landing: pv, camp: camp, pages: g.between(1, 3), buy: buy})
}

// salesSequence plans a rep's first emails and call to a prospect.
func (g *gen) salesSequence(p *person, t time.Time) {
	rep := staff[p.acct.owner]
	subjects := esSalesSubjects
	if p.c.lang == "en" {
		subjects = enSalesSubjects
	}
	at := t
	for i, s := range subjects[:g.between(2, 4)] {
		at = g.after(at, float64(i)*3, float64(i)*3+2, p.c.tz)
		if g.chance(0.3 + 0.3*p.engagement) {
			open := g.humanTime(at.Add(time.Duration(g.r.IntN(20))*time.Hour), p.c.tz)
			g.trackServer(p, open, "Email Opened", map[string]any{"email_id": fmt.Sprintf("seq-%s-%d", p.extID, i+1), "subject": strings.ReplaceAll(s, "{company}", p.acct.name), "sender": rep.email, "kind": "sales"}, nil)
		}
	}
	if g.chance(0.6) {
		g.call(p, g.after(t, 2, 10, p.c.tz))
	}
}

func (g *gen) call(p *person, at time.Time) {
	outcome := []string{"connected", "voicemail", "no_answer"}[g.weighted([]float64{50, 30, 20})]
	secs := 20 + g.r.IntN(40)
	if outcome == "connected" {
		secs = 180 + g.r.IntN(1500)
	}
	g.trackServer(p, at, "Call Logged", map[string]any{"rep": staff[p.acct.owner].email, "outcome": outcome, "duration_seconds": secs}, nil)
}

func (g *gen) meeting(p *person, at time.Time, kind string, d *deal) {
	props := map[string]any{"rep": staff[p.acct.owner].email, "kind": kind, "duration_minutes": []int{30, 45, 60}[g.r.IntN(3)]}
	if d != nil {
		props["deal"] = d.name
	}
	g.trackServer(p, at, "Meeting Held", props, nil)
}

// salesContact plans the rep's first calls after accepting a lead.
func (g *gen) salesContact(p *person, t time.Time) time.Time {
	at := g.after(t, 0, 2, p.c.tz)
	g.call(p, at)
	if g.chance(0.35) {
		at = g.after(at, 1, 4, p.c.tz)
		g.call(p, at)
	}
	if g.chance(0.6) {
		at = g.after(at, 1, 7, p.c.tz)
		g.meeting(p, at, "discovery", nil)
	}
	return at
}

// qualify plans the buying signals of seed 003's SQL definition: pricing,
// price list and a trial. It returns when the trial started.
func (g *gen) qualify(p *person, t time.Time) (time.Time, bool) {
	tz := p.c.tz
	at := g.humanTime(t.Add(days(3+g.r.Float64()*15)), tz)
	if g.chance(0.35) {
		v := g.visitorOf(p, g.device(p), true)
		pv := g.pageBase("demo", p.c.lang)
		_, end, _ := g.session(v, at, sessionOpts{landing: pv, pages: 1})
		g.trackWeb(v, end.Add(40*time.Second), "Demo Requested", map[string]any{"team_size": teamSize(p.acct.employees)}, pv, nil)
		at = g.humanTime(end.Add(days(1+g.r.Float64()*4)), tz)
	}
	at = g.pricingVisit(p, at, true)
	trial := g.humanTime(at.Add(days(g.r.Float64()*6)), tz)
	if !g.past(trial) {
		return trial, false
	}
	v := g.visitorOf(p, g.device(p), true)
	pv := g.pageBase("trial", p.c.lang)
	_, end, _ := g.session(v, trial, sessionOpts{landing: pv, pages: 1})
	end = end.Add(time.Duration(60+g.r.IntN(240)) * time.Second)
	g.trackWeb(v, end, "Trial Started", map[string]any{"plan": "professional", "trial_days": 14}, pv, nil)
	return end, true
}

// pricingVisit plans a look at the pricing page and maybe the price list
// download; it returns the time after it.
func (g *gen) pricingVisit(p *person, at time.Time, download bool) time.Time {
	lang := p.c.lang
	v := g.visitorOf(p, g.device(p), true)
	var camp *campaignCtx
	if g.chance(0.3) {
		camp = g.campaignFor(lang, at, func(c *campaign) bool { return c.landing == "pricing" })
	}
	pv := g.pageBase("pricing", lang)
	_, end, _ := g.session(v, at, sessionOpts{landing: pv, camp: camp, pages: 1})
	end = end.Add(time.Duration(10+g.r.IntN(30)) * time.Second)
	g.trackWeb(v, end, "Pricing Page Viewed", map[string]any{"currency": p.c.currency}, pv, camp)
	if download {
		end = end.Add(time.Duration(30+g.r.IntN(200)) * time.Second)
		file := "vertice-lista-de-precios.pdf"
		if lang == "en" {
			file = "vertice-price-list.pdf"
		}
		g.trackWeb(v, end, "Price List Downloaded", map[string]any{"file": file, "currency": p.c.currency}, pv, camp)
	}
	return end
}

// --- deals ----------------------------------------------------------------------

func (g *gen) openDeal(p *person, t time.Time, expansion bool) *deal {
	a := p.acct
	seats := int(math.Round(float64(a.employees) * (0.04 + g.r.Float64()*0.21)))
	seats = max(3, min(seats, 500))
	var pl pricePlan
	switch {
	case a.employees < 50:
		pl = plans[g.weighted([]float64{80, 20, 0})]
	case a.employees < 500:
		pl = plans[g.weighted([]float64{15, 70, 15})]
	default:
		pl = plans[g.weighted([]float64{0, 30, 70})]
	}
	label := pl.es
	if a.c.lang == "en" {
		label = pl.en
	}
	if expansion {
		seats = g.between(2, max(3, seats/3))
		label = "Ampliación"
		if a.c.lang == "en" {
			label = "Expansion"
		}
	}
	unit := "usuarios"
	if a.c.lang == "en" {
		unit = "seats"
	}
	local := float64(seats*pl.seatPrice*12) * a.c.rate
	round := 100.0
	if a.c.currency == "MXN" {
		round = 1000
	}
	local = math.Max(round, math.Round(local/round)*round)
	d := &deal{
		acct: a, primary: p, owner: a.owner, status: alinea.DealOpen, created: t, expansion: expansion, label: label, seats: seats,
		name:          fmt.Sprintf("%s — %s (%d %s)", a.name, label, seats, unit),
		amount:        int64(local) * 100,
		currency:      a.c.currency,
		expectedClose: t.AddDate(0, 0, g.between(30, 90)).Format("2006-01-02"),
	}
	role := "champion"
	if p.seniority >= 2 {
		role = "decision maker"
	}
	d.roles = []string{role}
	p.inDeal = true
	g.deals = append(g.deals, d)
	g.add(action{at: g.at(t), kind: actDealCreate, deal: d, actor: userActor(a.owner)})
	if g.chance(0.1) {
		g.note(p, g.after(t, 7, 21, p.c.tz), userManager, "review", d)
	}
	return d
}

var meetingKinds = []string{"discovery", "demo", "proposal", "negotiation"}

// playDeal plans a deal's way through the pipeline from its creation: it
// is won, lost at some stage with a reason, or still open at the anchor.
// It returns when the deal closed and, if lost, why.
func (g *gen) playDeal(d *deal, p *person) (time.Time, string) {
	tz := p.c.tz
	// Seed 003: "of every 20 leads it gets, sales closes 5".
	won := g.chance(0.1 + 0.25*p.engagement)
	lostAt := -1
	if !won {
		lostAt = min(g.weighted([]float64{25, 30, 25, 20}), g.openStages-1)
	}
	actor := userActor(d.owner)
	t := d.created
	if g.chance(0.7) {
		g.meeting(p, g.after(t, 1, 6, tz), "discovery", d)
	}
	for stage := 0; ; {
		if stage == lostAt {
			at := g.after(t, 5, 25, tz)
			if !g.past(at) {
				return at, ""
			}
			ws := []float64{15, 25, 30, 30}
			if stage >= 2 {
				ws = []float64{35, 30, 15, 20}
			}
			reason := lossReasons[g.weighted(ws)]
			g.add(action{at: g.at(at), kind: actDealMove, deal: d, stage: stageLost, reason: reason, actor: actor})
			d.status, d.closed = alinea.DealLost, at
			return at, reason
		}
		if stage == g.openStages-1 {
			at := g.after(t, 4, 20, tz)
			if !g.past(at) {
				return at, ""
			}
			g.add(action{at: g.at(at), kind: actDealMove, deal: d, stage: stageWon, actor: actor})
			d.status, d.closed = alinea.DealWon, at
			return at, ""
		}
		next := stage + 1
		if next == 1 && g.openStages > 2 && (won || lostAt > 1) && g.chance(0.2) {
			next = 2 // qualified on the first call
		}
		at := g.after(t, 5, 20, tz)
		if !g.past(at) {
			return at, ""
		}
		g.add(action{at: g.at(at), kind: actDealMove, deal: d, stage: next, actor: actor})
		if g.chance(0.7) {
			g.meeting(p, at.Add(-time.Duration(g.between(1, 5))*time.Hour), meetingKinds[min(next, len(meetingKinds)-1)], d)
		}
		stage, t = next, at
	}
}

// planCommittees adds the rest of each deal's buying committee: other
// contacts of the account who were never in buy mode themselves. When the
// deal is won they become customers too, and whatever their own plan had
// for them after that is cut off.
func (g *gen) planCommittees() {
	salRank := alinea.StageSAL.Rank()
	for _, d := range g.deals {
		if d.expansion {
			continue
		}
		want := g.between(0, 1)
		switch {
		case d.acct.employees >= 250:
			want = g.between(1, 3)
		case d.acct.employees >= 50:
			want = g.between(1, 2)
		}
		var cands []*person
		for _, q := range d.acct.people {
			if q != d.primary && !q.inDeal && q.maxRank < salRank && q.created.Before(d.created) && q.stageAt(d.created) != alinea.StageDisqualified {
				cands = append(cands, q)
			}
		}
		g.r.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
		hasDM, hasChampion := d.roles[0] == "decision maker", d.roles[0] == "champion"
		for _, q := range cands[:min(want, len(cands))] {
			role := "user"
			switch {
			case q.seniority >= 2 && !hasDM:
				role, hasDM = "decision maker", true
			case q.seniority >= 1 && !hasChampion:
				role, hasChampion = "champion", true
			case q.seniority >= 1:
				role = "influencer"
			}
			q.inDeal = true
			d.committee = append(d.committee, q)
			d.roles = append(d.roles, role)
			if d.status == alinea.DealWon {
				g.becomeCustomer(q, d)
			}
		}
	}
}

func (p *person) stageAt(t time.Time) alinea.Stage {
	s := alinea.Stage("")
	for _, m := range p.moves {
		if m.at.After(t) {
			break
		}
		s = m.to
	}
	return s
}

func (g *gen) becomeCustomer(q *person, d *deal) {
	at := d.closed.Add(time.Minute)
	cut := at.UnixMilli()
	for _, i := range q.mutable {
		if g.acts[i].at >= cut {
			g.acts[i].dropped = true
		}
	}
	kept := q.moves[:0]
	for _, m := range q.moves {
		if m.at.Before(at) {
			kept = append(kept, m)
		}
	}
	q.moves = kept
	q.stage = q.moves[len(q.moves)-1].to
	g.move(q, at, alinea.StageCustomer, actorRef{typ: alinea.ActorSystem}, "", map[string]any{"event": "deal_won"}, d)
	g.setOwner(q, at, d.owner)
}

// --- email and background traffic ----------------------------------------------

func (g *gen) planNewsletters() {
	for _, p := range g.people {
		if p.consent != alinea.ConsentGranted {
			continue
		}
		lang := p.c.lang
		subjects := esNewsletterSubjects
		name := "newsletter-mensual"
		if lang == "en" {
			subjects, name = enNewsletterSubjects, "monthly-digest"
		}
		for _, send := range g.newsletters[lang] {
			if send.Before(p.created) || !g.chance(0.12+0.45*p.engagement) {
				continue
			}
			open := send.Add(time.Duration(math.Min(-4*math.Log(1-g.r.Float64()), 72) * float64(time.Hour)))
			g.emailOpen(p, open, "nl-"+lang+"-"+send.Format("2006-01"), subjects[send.Month()-1], name)
		}
	}
}

// planTraffic fills the event budget with ordinary visits: three quarters
// from known contacts (more engaged ones visit more), a quarter from
// visitors who never identify.
func (g *gen) planTraffic(total int) error {
	left := total - g.events
	if left < 0 {
		return fmt.Errorf("%d events are too few for %d contacts: their journeys alone need %d; ask for more events or fewer contacts", total, len(g.people), g.events)
	}
	anon := left / 4
	known := left - anon
	// The moment comes first, following the season; then one of the
	// contacts who existed by then, the more engaged the likelier.
	byCreation := slices.Clone(g.people)
	slices.SortStableFunc(byCreation, func(a, b *person) int { return a.created.Compare(b.created) })
	cum := make([]float64, len(byCreation))
	sum := 0.0
	for i, p := range byCreation {
		sum += 0.1 + p.engagement
		cum[i] = sum
	}
	first := byCreation[0].created.Add(time.Hour)
	for stuck := 0; known > 0 && stuck < 1000; {
		at := g.seasonal(first, g.now, 0)
		existing := sort.Search(len(byCreation), func(i int) bool { return !byCreation[i].created.Before(at.Add(-time.Hour)) })
		if existing == 0 {
			stuck++
			continue
		}
		p := byCreation[sort.SearchFloat64s(cum[:existing], g.r.Float64()*cum[existing-1])]
		at = g.humanTime(at.Add(-12*time.Hour), p.c.tz)
		if at.Before(p.created) {
			at = p.created.Add(time.Hour)
		}
		buy := !p.buyAt.IsZero() && at.After(p.buyAt)
		n := g.visit(g.visitorOf(p, g.device(p), true), at, min(known, 1+g.geometric(0.45)), buy, 0.25)
		if n == 0 {
			stuck++
		}
		known -= n
	}
	cw := make([]float64, len(countries))
	for i, c := range countries {
		cw[i] = c.weight
	}
	for stuck := 0; anon > 0 && stuck < 1000; {
		c := &countries[g.weighted(cw)]
		v := visitor{anon: g.uuid(), ua: pick(g, userAgents), c: c}
		for range g.between(1, 3) {
			if anon == 0 {
				break
			}
			n := g.visit(v, g.seasonal(g.start, g.now, c.tz), min(anon, 1+g.geometric(0.5)), false, 0.35)
			if n == 0 {
				stuck++
			}
			anon -= n
		}
	}
	if g.events != total {
		return fmt.Errorf("planned %d events instead of %d", g.events, total)
	}
	return nil
}

// geometric returns the number of failures before a success with p.
func (g *gen) geometric(p float64) int {
	n := 0
	for n < 8 && !g.chance(p) {
		n++
	}
	return n
}
