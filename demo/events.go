package demo

import (
	"bytes"
	"encoding/json"
	"net/url"
	"time"

	"github.com/alinea-crm/alinea"
)

// The Segment messages the demo sends, shaped as analytics.js (website) and
// analytics-go (server side) send them.

type libraryCtx struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type campaignCtx struct {
	Source  string `json:"source"`
	Medium  string `json:"medium"`
	Name    string `json:"name"`
	Term    string `json:"term,omitempty"`
	Content string `json:"content,omitempty"`
}

type pageCtx struct {
	Path     string `json:"path"`
	Referrer string `json:"referrer,omitempty"`
	Search   string `json:"search,omitempty"`
	Title    string `json:"title"`
	URL      string `json:"url"`
}

type webCtx struct {
	Campaign  *campaignCtx `json:"campaign,omitempty"`
	Library   libraryCtx   `json:"library"`
	Locale    string       `json:"locale"`
	Page      pageCtx      `json:"page"`
	Timezone  string       `json:"timezone"`
	UserAgent string       `json:"userAgent"`
}

type serverCtx struct {
	Campaign *campaignCtx `json:"campaign,omitempty"`
	Library  libraryCtx   `json:"library"`
}

var (
	browserLib = libraryCtx{"analytics.js", "next-1.72.0"}
	serverLib  = libraryCtx{"analytics-go", "3.1.0"}
)

// visitor is one browser: a contact's device or an anonymous visitor's.
type visitor struct {
	anon, ua, userID string
	c                *country
}

func (g *gen) visitorOf(p *person, dev int, known bool) visitor {
	v := visitor{anon: p.devices[dev].anon, ua: p.devices[dev].ua, c: p.c}
	if known {
		v.userID = p.extID
	}
	return v
}

// pageView is one page of the website.
type pageView struct {
	key, path, title, name string
}

func (g *gen) page(key, lang string) pageView {
	for _, d := range pages {
		if d.key != key {
			continue
		}
		pv := pageView{key: key, path: d.esPath, title: d.esTitle, name: d.esName}
		if lang == "en" {
			pv = pageView{key: key, path: d.enPath, title: d.enTitle, name: d.enName}
		}
		switch key {
		case "blog":
			posts := esBlogPosts
			if lang == "en" {
				posts = enBlogPosts
			}
			post := pick(g, posts)
			pv.path += "/" + post[0]
			pv.title = post[1] + " | Vértice"
		case "ebook":
			pv = g.ebookPage(g.ebook(lang), lang)
		}
		return pv
	}
	panic("demo: unknown page " + key)
}

func (g *gen) ebook(lang string) content {
	if lang == "en" {
		return pick(g, enEbooks)
	}
	return pick(g, esEbooks)
}

func (g *gen) ebookPage(e content, lang string) pageView {
	pv := g.pageBase("ebook", lang)
	pv.path += "/" + e.slug
	pv.title = e.title + " | Vértice"
	return pv
}

func (g *gen) webinarPage(w *webinar) pageView {
	pv := g.pageBase("webinar", w.lang)
	pv.path += "/" + w.slug
	pv.title = w.title + " | Webinar Vértice"
	return pv
}

func (g *gen) pageBase(key, lang string) pageView {
	for _, d := range pages {
		if d.key == key {
			if lang == "en" {
				return pageView{key: key, path: d.enPath, title: d.enTitle, name: d.enName}
			}
			return pageView{key: key, path: d.esPath, title: d.esTitle, name: d.esName}
		}
	}
	panic("demo: unknown page " + key)
}

// emit queues one message; messages at or after the anchor are dropped.
func (g *gen) emit(at time.Time, key writeKey, m alinea.Message) bool {
	if !g.past(at) || at.Before(g.start) {
		return false
	}
	m.MessageID = g.uuid()
	m.Timestamp = time.UnixMilli(at.UnixMilli()).UTC()
	m.ReceivedAt = m.Timestamp.Add(time.Duration(40+g.r.IntN(1500)) * time.Millisecond)
	g.add(action{at: at.UnixMilli(), kind: actEvent, key: key, msg: &m})
	g.events++
	return true
}

// mustJSON encodes v as analytics libraries do, without escaping & < >.
func mustJSON(v any) json.RawMessage {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("demo: " + err.Error())
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func (c *campaignCtx) utm() alinea.UTM {
	if c == nil {
		return alinea.UTM{}
	}
	return alinea.UTM{Source: c.Source, Medium: c.Medium, Campaign: c.Name, Term: c.Term, Content: c.Content}
}

// campaignFor returns an active campaign for lang that keep accepts, or nil.
func (g *gen) campaignFor(lang string, t time.Time, keep func(c *campaign) bool) *campaignCtx {
	month := int(t.Sub(g.start) / days(365.0/12))
	var ok []*campaign
	for i := range campaigns {
		c := &campaigns[i]
		if (c.lang == "" || c.lang == lang) && month >= c.from && month <= c.to && keep(c) {
			ok = append(ok, c)
		}
	}
	if len(ok) == 0 {
		return nil
	}
	c := pick(g, ok)
	cc := &campaignCtx{Source: c.source, Medium: c.medium, Name: c.name}
	if len(c.terms) > 0 {
		cc.Term = pick(g, c.terms)
	}
	if len(c.contents) > 0 {
		cc.Content = pick(g, c.contents)
	}
	return cc
}

func campaignLanding(name string) string {
	for _, c := range campaigns {
		if c.name == name {
			return c.landing
		}
	}
	return "home"
}

// sessionOpts describes one visit to the website.
type sessionOpts struct {
	landing  pageView
	camp     *campaignCtx
	referrer string
	pages    int // in all, landing included
	buy      bool
}

// session emits the page views of one visit starting at t. It returns the
// last page, the time after it and how many pages were emitted.
func (g *gen) session(v visitor, t time.Time, o sessionOpts) (pageView, time.Time, int) {
	lang := v.c.lang
	pv := o.landing
	ref := o.referrer
	emitted := 0
	for i := 0; i < max(1, o.pages); i++ {
		if i > 0 {
			pv = g.nextPage(lang, o.buy)
			t = t.Add(time.Duration(15+g.r.IntN(160)) * time.Second)
		}
		u := siteURL + pv.path
		var camp *campaignCtx
		search := ""
		if i == 0 && o.camp != nil {
			camp = o.camp
			q := url.Values{}
			q.Set("utm_source", camp.Source)
			q.Set("utm_medium", camp.Medium)
			q.Set("utm_campaign", camp.Name)
			if camp.Term != "" {
				q.Set("utm_term", camp.Term)
			}
			if camp.Content != "" {
				q.Set("utm_content", camp.Content)
			}
			search = "?" + q.Encode()
			u += search
		}
		pc := pageCtx{Path: pv.path, Referrer: ref, Search: search, Title: pv.title, URL: u}
		m := alinea.Message{
			Type: "page", UserID: v.userID, AnonymousID: v.anon, Event: pv.name,
			Properties: mustJSON(pc),
			Context:    mustJSON(webCtx{Campaign: camp, Library: browserLib, Locale: v.c.locale, Page: pc, Timezone: v.c.zone, UserAgent: v.ua}),
			UTM:        camp.utm(),
		}
		if g.emit(t, keyWebsite, m) {
			emitted++
		}
		ref = u
	}
	return pv, t, emitted
}

func (g *gen) nextPage(lang string, buy bool) pageView {
	ws := make([]float64, len(pages))
	for i, d := range pages {
		ws[i] = d.infoWeight
		if buy {
			ws[i] = d.buyWeight
		}
	}
	return g.page(pages[g.weighted(ws)].key, lang)
}

// trackWeb emits a track call from the browser, on page pv.
func (g *gen) trackWeb(v visitor, at time.Time, name string, props any, pv pageView, camp *campaignCtx) {
	pc := pageCtx{Path: pv.path, Title: pv.title, URL: siteURL + pv.path}
	g.emit(at, keyWebsite, alinea.Message{
		Type: "track", UserID: v.userID, AnonymousID: v.anon, Event: name,
		Properties: mustJSON(props),
		Context:    mustJSON(webCtx{Campaign: camp, Library: browserLib, Locale: v.c.locale, Page: pc, Timezone: v.c.zone, UserAgent: v.ua}),
		UTM:        camp.utm(),
	})
}

// trackServer emits a server-side track call about a contact.
func (g *gen) trackServer(p *person, at time.Time, name string, props any, camp *campaignCtx) {
	g.emit(at, keyBackend, alinea.Message{
		Type: "track", UserID: p.extID, Event: name,
		Properties: mustJSON(props),
		Context:    mustJSON(serverCtx{Campaign: camp, Library: serverLib}),
		UTM:        camp.utm(),
	})
}

// identify emits the identify call that ties a browser (or, server side,
// the CRM record) to the contact.
func (g *gen) identify(p *person, at time.Time, v *visitor) {
	traits := map[string]any{"email": p.email, "firstName": p.first, "lastName": p.last, "title": p.title, "language": p.c.lang}
	if p.phone != "" {
		traits["phone"] = p.phone
	}
	m := alinea.Message{Type: "identify", UserID: p.extID, Traits: mustJSON(traits)}
	key := keyBackend
	if v != nil {
		key = keyWebsite
		m.AnonymousID = v.anon
		home := g.pageBase("home", p.c.lang)
		pc := pageCtx{Path: home.path, Title: home.title, URL: siteURL + home.path}
		m.Context = mustJSON(webCtx{Library: browserLib, Locale: v.c.locale, Page: pc, Timezone: v.c.zone, UserAgent: v.ua})
	} else {
		m.Context = mustJSON(serverCtx{Library: serverLib})
	}
	g.emit(at, key, m)
}

// organicEntry picks how a visit without a campaign arrives.
func (g *gen) organicEntry(lang string) (pageView, string) {
	switch g.weighted([]float64{55, 30, 10, 5}) {
	case 0:
		ref := pick(g, []string{"https://www.google.com/", "https://www.google.com/", "https://www.google.com/", "https://www.bing.com/", "https://duckduckgo.com/"})
		return g.page(pick(g, []string{"blog", "blog", "blog", "home", "product", "ebook"}), lang), ref
	case 1:
		return g.page(pick(g, []string{"home", "home", "pricing", "product"}), lang), ""
	case 2:
		return g.page("blog", lang), "https://www.linkedin.com/"
	default:
		return g.page(pick(g, []string{"home", "product"}), lang), pick(g, []string{"https://www.marketeros-latam.example/", "https://saas-academy.example/directory"})
	}
}

// visit emits a visit with a random entry: a campaign (with probability
// pCamp) or organic.
func (g *gen) visit(v visitor, at time.Time, pages int, buy bool, pCamp float64) int {
	lang := v.c.lang
	o := sessionOpts{pages: pages, buy: buy}
	if g.chance(pCamp) {
		o.camp = g.campaignFor(lang, at, func(c *campaign) bool { return c.medium != "email" })
	}
	if o.camp != nil {
		o.landing = g.page(campaignLanding(o.camp.Name), lang)
		switch o.camp.Source {
		case "google":
			o.referrer = "https://www.google.com/"
		case "bing":
			o.referrer = "https://www.bing.com/"
		case "linkedin":
			o.referrer = "https://www.linkedin.com/"
		case "facebook":
			o.referrer = "https://www.facebook.com/"
		}
	} else {
		o.landing, o.referrer = g.organicEntry(lang)
	}
	_, _, n := g.session(v, at, o)
	return n
}
