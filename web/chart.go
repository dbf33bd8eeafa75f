package web

import (
	"net/url"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/store"
)

// funnelChart is the home page's funnel as horizontal bars, one per stage,
// with the stage-to-stage conversion between consecutive rows. The Go code
// lays it out; templates/_funnel.html only draws the shapes, in SVG user
// units (the SVG scales to its box). There are two layouts: wide, with the
// labels beside the bars and the conversions in a column, and compact, for
// phones, with each label above its bar.
type funnelChart struct {
	ID            string
	Width, Height int
	BarH          int
	Heads         []chartText
	Bars          []funnelBar
	Steps         []funnelStep
	// Rows repeat the data for the table shown to screen readers and to
	// anyone who opens it.
	Rows []funnelRow
}

type chartText struct {
	X, Y   int
	Anchor string
	Text   string
}

type funnelBar struct {
	Mode    alinea.Mode
	Href    string
	Label   chartText
	Count   chartText
	X, Y, W int
	TrackW  int
}

// funnelStep is the conversion from one stage to the next.
type funnelStep struct {
	PillX, PillY int
	PillW, PillH int
	Text         chartText
	Known        bool
}

type funnelRow struct {
	Label      string
	Count      string
	Entered    string
	Conversion string
}

// funnelLayout is where a layout puts things.
type funnelLayout struct {
	width, row, bar, top int
	// labelAbove puts each stage's name above its bar instead of beside it.
	labelAbove       bool
	labelX, barX     int
	barMaxW          int
	convX            int
	pillW, pillH     int
	countGap, minBar int
}

var (
	wideFunnel    = funnelLayout{width: 800, row: 46, bar: 28, top: 30, labelX: 150, barX: 160, barMaxW: 420, convX: 712, pillW: 84, pillH: 24, countGap: 8, minBar: 3}
	compactFunnel = funnelLayout{width: 360, row: 52, bar: 18, top: 8, labelAbove: true, labelX: 0, barX: 0, barMaxW: 360, convX: 324, pillW: 72, pillH: 22, minBar: 3}
)

func newFunnelChart(l *locale, id string, lay funnelLayout, counts map[alinea.Stage]int64, flows []store.StageFlow) funnelChart {
	stages := alinea.FunnelStages
	c := funnelChart{ID: id, Width: lay.width, Height: lay.top + len(stages)*lay.row, BarH: lay.bar}
	if !lay.labelAbove {
		c.Heads = []chartText{
			{X: lay.barX, Y: lay.top - 12, Anchor: "start", Text: l.T("home.col_contacts")},
			{X: lay.convX, Y: lay.top - 12, Anchor: "middle", Text: l.T("home.col_conversion")},
		}
	}
	var most int64
	for _, s := range stages {
		most = max(most, counts[s])
	}
	flowOf := map[alinea.Stage]store.StageFlow{}
	for _, f := range flows {
		flowOf[f.Stage] = f
	}
	for i, s := range stages {
		n := counts[s]
		w := lay.minBar
		if most > 0 {
			w = max(lay.minBar, int(float64(n)/float64(most)*float64(lay.barMaxW)+0.5))
		}
		rowTop := lay.top + i*lay.row
		b := funnelBar{Mode: s.Mode(), Href: "/contacts?" + url.Values{"stage": {string(s)}}.Encode(), X: lay.barX, W: w, TrackW: lay.barMaxW}
		label, count := stageName(l, s), l.Int(n)
		if lay.labelAbove {
			b.Y = rowTop + lay.row - lay.bar - 10
			b.Label = chartText{X: lay.labelX, Y: b.Y - 11, Anchor: "start", Text: label + " · " + count}
		} else {
			b.Y = rowTop + (lay.row-lay.bar)/2
			b.Label = chartText{X: lay.labelX, Y: b.Y + lay.bar/2, Anchor: "end", Text: label}
			// The count follows its bar, in ink on the page rather than on
			// the bar's colour, where it would be hard to read.
			b.Count = chartText{X: lay.barX + w + lay.countGap, Y: b.Y + lay.bar/2, Anchor: "start", Text: count}
		}
		c.Bars = append(c.Bars, b)

		row := funnelRow{Label: label, Count: count, Entered: l.Int(flowOf[s].Entered), Conversion: "–"}
		if i+1 < len(stages) {
			step := funnelStep{PillW: lay.pillW, PillH: lay.pillH, Text: chartText{Anchor: "middle", Text: "–"}}
			if f := flowOf[s]; f.Entered > 0 {
				step.Text.Text, step.Known = "↓ "+l.Percent(float64(f.Advanced)/float64(f.Entered)), true
				row.Conversion = l.Percent(float64(f.Advanced) / float64(f.Entered))
			}
			// Between this row and the next: beside the bars when wide,
			// on the next label's line when compact.
			y := rowTop + lay.row
			if lay.labelAbove {
				y = lay.top + (i+1)*lay.row + lay.row - lay.bar - 21
			}
			step.Text.X, step.Text.Y = lay.convX, y
			step.PillX, step.PillY = lay.convX-lay.pillW/2, y-lay.pillH/2
			c.Steps = append(c.Steps, step)
		}
		c.Rows = append(c.Rows, row)
	}
	return c
}
