package bench

import (
	"fmt"
	"html"
	"io"
	"math"
)

// palette gives each row of a scenario a colour, in row order.
var palette = []string{"#d62728", "#ff7f0e", "#e377c2", "#8c564b", "#1f77b4", "#2ca02c", "#9467bd", "#17becf", "#7f7f7f", "#bcbd22"}

// WriteSVG plots requests per operation against p99 lag, absolute (left)
// and relative (right), log–log, with the limit curve, as a standalone SVG.
func WriteSVG(w io.Writer, r Result) error {
	const W, H, pw, ph, top, left = 1100, 520, 430, 360, 60, 80
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", W, H)
	fmt.Fprintf(w, `<rect width="100%%" height="100%%" fill="white"/><text x="%d" y="24" font-size="16">%s</text>`+"\n",
		left, html.EscapeString("requests per operation vs p99 detection lag — "+r.Scenario.Name))
	fmt.Fprintf(w, `<text x="%d" y="42" fill="#555">%s</text>`+"\n", left, html.EscapeString(r.Scenario.Describe()))
	var sims []Metrics
	for _, m := range r.Rows {
		if !m.Computed && m.ReqMean > 0 {
			sims = append(sims, m)
		}
	}
	panels := []struct {
		x0     int
		title  string
		curve  []Point
		lag    func(Metrics) float64
		xlo    float64
		xhi    float64
		xlabel func(float64) string
	}{
		{left, "p99 lag (seconds)", r.CurveAbs, func(m Metrics) float64 { return m.LagP99.Seconds() }, 0.5, 2000,
			func(x float64) string { return fmt.Sprintf("%g", x) }},
		{left + pw + 120, "p99 lag relative to duration", r.CurveRel, func(m Metrics) float64 { return m.RelP99 }, 0.01, 20,
			func(x float64) string { return fmt.Sprintf("%g", x) }},
	}
	ylo, yhi := 0.5, 200.0
	for _, m := range sims {
		yhi = math.Max(yhi, m.ReqMean*1.5)
	}
	for _, p := range panels {
		xs := func(v float64) float64 {
			v = math.Min(math.Max(v, p.xlo), p.xhi)
			return float64(p.x0) + pw*math.Log(v/p.xlo)/math.Log(p.xhi/p.xlo)
		}
		ys := func(v float64) float64 {
			v = math.Min(math.Max(v, ylo), yhi)
			return float64(top+ph) - ph*math.Log(v/ylo)/math.Log(yhi/ylo)
		}
		fmt.Fprintf(w, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#333"/>`+"\n", p.x0, top, pw, ph)
		for x := p.xlo; x <= p.xhi*1.0001; x *= 10 {
			for _, t := range []float64{1, 2, 5} {
				v := x * t
				if v < p.xlo || v > p.xhi {
					continue
				}
				fmt.Fprintf(w, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#eee"/><text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n",
					xs(v), top, xs(v), top+ph, xs(v), top+ph+16, p.xlabel(v))
			}
		}
		for y := 1.0; y <= yhi; y *= 10 {
			for _, t := range []float64{1, 2, 5} {
				v := y * t
				if v < ylo || v > yhi {
					continue
				}
				fmt.Fprintf(w, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#eee"/><text x="%d" y="%.1f" text-anchor="end">%g</text>`+"\n",
					p.x0, ys(v), p.x0+pw, ys(v), p.x0-6, ys(v)+4, v)
			}
		}
		fmt.Fprintf(w, `<text x="%d" y="%d" text-anchor="middle">%s</text>`+"\n", p.x0+pw/2, top+ph+36, p.title)
		fmt.Fprintf(w, `<text transform="translate(%d,%d) rotate(-90)" text-anchor="middle">requests per operation (mean)</text>`+"\n", p.x0-50, top+ph/2)
		// The limit curve.
		path := ""
		for i, pt := range p.curve {
			cmd := "L"
			if i == 0 {
				cmd = "M"
			}
			path += fmt.Sprintf("%s%.1f %.1f ", cmd, xs(pt.Lag), ys(pt.Requests))
		}
		fmt.Fprintf(w, `<path d="%s" fill="none" stroke="#000" stroke-dasharray="5 4"/>`+"\n", path)
		fmt.Fprintf(w, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#000" stroke-dasharray="1 3"/>`+"\n", p.x0, ys(1), p.x0+pw, ys(1))
		for i, m := range sims {
			fmt.Fprintf(w, `<circle cx="%.1f" cy="%.1f" r="5" fill="%s" fill-opacity="0.85"><title>%s</title></circle>`+"\n",
				xs(p.lag(m)), ys(m.ReqMean), palette[i%len(palette)], html.EscapeString(fmt.Sprintf("%s: %.2f req/op", m.Strategy, m.ReqMean)))
		}
	}
	// Legend.
	lx, ly := left, top+ph+58
	items := append([]string{}, "- - limit (hint-free)", "· · · oracle (1 request)")
	for i, it := range items {
		fmt.Fprintf(w, `<text x="%d" y="%d">%s</text>`+"\n", lx+i*200, ly, html.EscapeString(it))
	}
	for i, m := range sims {
		x, y := lx+(i%4)*240, ly+20+(i/4)*18
		fmt.Fprintf(w, `<circle cx="%d" cy="%d" r="5" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n",
			x+5, y-4, palette[i%len(palette)], x+14, y, html.EscapeString(m.Strategy))
	}
	_, err := fmt.Fprintln(w, "</svg>")
	return err
}
