package report

import (
	_ "embed"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/signintech/gopdf"
)

// The fonts every PDF embeds (subset to the glyphs used), so a paper looks
// the same on a fresh machine as on the office's. fonts/LICENSE is their
// licence, which allows redistribution.
var (
	//go:embed fonts/DejaVuSans.ttf
	fontRegular []byte
	//go:embed fonts/DejaVuSans-Bold.ttf
	fontBold []byte
)

// A4 in points, and the margins every paper uses.
const (
	a4Short = 595.28
	a4Long  = 841.89
	marginX = 40.0
	top     = 44.0
)

// rgb is a colour.
type rgb struct{ r, g, b uint8 }

var (
	black = rgb{0, 0, 0}
	grey  = rgb{95, 95, 95}
	red   = rgb{176, 0, 0}
	green = rgb{0, 110, 40}
)

// pdfDoc lays out a document top to bottom, breaking pages as it goes.
type pdfDoc struct {
	pdf      *gopdf.GoPdf
	lang     Lang
	y        float64
	running  string // the small line at the top of every page
	draft    string // watermark on every page; empty for none
	size     float64
	bold     bool
	fontErrs error
	glyphs   map[rune]bool // whether both fonts draw a rune
	pageW    float64
	pageH    float64
}

func (d *pdfDoc) bodyW() float64  { return d.pageW - 2*marginX }
func (d *pdfDoc) bottom() float64 { return d.pageH - 46 }

// newPDF starts a document with the fonts loaded and no page yet.
// Landscape pages suit wide tables.
func newPDF(lang Lang, title, running, draft string, created time.Time, landscape bool) (*pdfDoc, error) {
	w, h := a4Short, a4Long
	if landscape {
		w, h = h, w
	}
	pdf := &gopdf.GoPdf{}
	pdf.Start(gopdf.Config{PageSize: gopdf.Rect{W: w, H: h}, Unit: gopdf.UnitPT})
	pdf.SetInfo(gopdf.PdfInfo{Title: title, Creator: "Pintu", Producer: "Pintu (gopdf)", CreationDate: created})
	if err := pdf.AddTTFFontData("sans", fontRegular); err != nil {
		return nil, fmt.Errorf("report: load font: %w", err)
	}
	if err := pdf.AddTTFFontData("sans-bold", fontBold); err != nil {
		return nil, fmt.Errorf("report: load bold font: %w", err)
	}
	d := &pdfDoc{pdf: pdf, lang: lang, running: running, draft: draft, glyphs: map[rune]bool{}, pageW: w, pageH: h}
	d.newPage()
	return d, nil
}

func (d *pdfDoc) font(bold bool, size float64) {
	family := "sans"
	if bold {
		family = "sans-bold"
	}
	if err := d.pdf.SetFont(family, "", size); err != nil && d.fontErrs == nil {
		d.fontErrs = err
	}
	d.size, d.bold = size, bold
}

func (d *pdfDoc) color(c rgb) { d.pdf.SetTextColor(c.r, c.g, c.b) }

// newPage starts a page: the watermark first, so everything else is drawn
// over it, then the running line.
func (d *pdfDoc) newPage() {
	d.pdf.AddPage()
	size, bold := d.size, d.bold
	if d.draft != "" {
		d.font(true, 64)
		d.pdf.SetTextColor(228, 228, 228)
		w := d.width(d.draft)
		d.pdf.Rotate(45, d.pageW/2, d.pageH/2)
		d.pdf.SetXY(d.pageW/2-w/2, d.pageH/2-20)
		d.pdf.Text(d.draft)
		d.pdf.RotateReset()
	}
	d.font(false, 7.5)
	d.color(grey)
	d.pdf.SetXY(marginX, 24)
	d.pdf.Text(d.clean(d.running))
	d.pdf.SetStrokeColor(190, 190, 190)
	d.pdf.SetLineWidth(0.5)
	d.pdf.Line(marginX, 28, d.pageW-marginX, 28)
	d.color(black)
	if size > 0 {
		d.font(bold, size)
	}
	d.y = top
}

// ensure starts a new page unless h more points fit on this one.
func (d *pdfDoc) ensure(h float64) {
	if d.y+h > d.bottom() {
		d.newPage()
	}
}

func (d *pdfDoc) width(s string) float64 {
	w, err := d.pdf.MeasureTextWidth(s)
	if err != nil {
		return float64(len(s)) * d.size * 0.6
	}
	return w
}

func (d *pdfDoc) lineH() float64 { return d.size * 1.3 }

// printable replaces what would hide or reorder text on paper (control
// characters, bidirectional overrides) with a visible mark, so a name
// cannot make the paper say something it does not.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n':
			return r
		case r == '\t':
			return ' '
		case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r), r == '\u2028', r == '\u2029':
			return '\uFFFD'
		}
		return r
	}, s)
}

// clean is s as the paper can show it: printable, and with characters the
// fonts lack (or gopdf cannot encode, beyond the Basic Multilingual Plane)
// shown as U+FFFD rather than silently dropped.
func (d *pdfDoc) clean(s string) string {
	s = printable(s)
	return strings.Map(func(r rune) rune {
		if r < 0x7f || r == '\uFFFD' {
			return r
		}
		ok, seen := d.glyphs[r]
		if !seen {
			bold, size := d.bold, d.size
			ok = r <= 0xFFFF && d.hasGlyph(false, r) && d.hasGlyph(true, r)
			d.glyphs[r] = ok
			if size > 0 {
				d.font(bold, size)
			}
		}
		if !ok {
			return '\uFFFD'
		}
		return r
	}, s)
}

func (d *pdfDoc) hasGlyph(bold bool, r rune) bool {
	d.font(bold, 10)
	ok, err := d.pdf.IsCurrFontContainGlyph(r)
	return err == nil && ok
}

// wrap breaks s into lines no wider than w at the current font, at spaces
// where it can and inside words (hashes, long ids) where it must.
func (d *pdfDoc) wrap(s string, w float64) []string {
	var lines []string
	for para := range strings.SplitSeq(d.clean(s), "\n") {
		line := ""
		for _, word := range strings.Fields(para) {
			cand := word
			if line != "" {
				cand = line + " " + word
			}
			if d.width(cand) <= w {
				line = cand
				continue
			}
			if line != "" {
				lines = append(lines, line)
				line = ""
			}
			for d.width(word) > w {
				n := d.fit(word, w)
				lines = append(lines, word[:n])
				word = word[n:]
			}
			line = word
		}
		lines = append(lines, line)
	}
	return lines
}

// fit is how many bytes of s (at rune boundaries, at least one rune) fit
// in w.
func (d *pdfDoc) fit(s string, w float64) int {
	n := 0
	for i, r := range s {
		if d.width(s[:i+len(string(r))]) > w {
			break
		}
		n = i + len(string(r))
	}
	if n == 0 {
		n = len(string([]rune(s)[0]))
	}
	return n
}

// text writes s at x, y (the top of the line).
func (d *pdfDoc) text(x, y float64, s string) {
	d.pdf.SetXY(x, y+d.size*0.95)
	d.pdf.Text(s)
}

// para writes s wrapped to the body width, from indent.
func (d *pdfDoc) para(s string, bold bool, size, indent float64, c rgb) {
	d.font(bold, size)
	d.color(c)
	for _, line := range d.wrap(s, d.bodyW()-indent) {
		d.ensure(d.lineH())
		d.text(marginX+indent, d.y, line)
		d.y += d.lineH()
	}
	d.color(black)
}

func (d *pdfDoc) gap(h float64) { d.y += h }

// heading is a section title, kept with the lines after it.
func (d *pdfDoc) heading(s string) {
	d.gap(6)
	d.ensure(60)
	d.font(true, 10.5)
	d.text(marginX, d.y, d.clean(s))
	d.y += d.lineH() + 1
	d.pdf.SetStrokeColor(0, 0, 0)
	d.pdf.SetLineWidth(0.6)
	d.pdf.Line(marginX, d.y, d.pageW-marginX, d.y)
	d.y += 4
}

// box draws a framed, shaded banner with s in it.
func (d *pdfDoc) banner(s string, c rgb) {
	d.font(true, 10)
	lines := d.wrap(s, d.bodyW()-16)
	h := float64(len(lines))*d.lineH() + 10
	d.ensure(h)
	d.pdf.SetStrokeColor(c.r, c.g, c.b)
	d.pdf.SetLineWidth(1.2)
	d.pdf.SetFillColor(255, 240, 240)
	d.pdf.RectFromUpperLeftWithStyle(marginX, d.y, d.bodyW(), h, "FD")
	d.color(c)
	y := d.y + 5
	for _, l := range lines {
		d.text(marginX+8, y, l)
		y += d.lineH()
	}
	d.color(black)
	d.y += h + 6
}

// field is one line of label and value, the value wrapped beside the
// label.
func (d *pdfDoc) field(label, value string, labelW float64) {
	d.font(false, 9)
	lines := d.wrap(value, d.bodyW()-labelW)
	for i, l := range lines {
		d.ensure(d.lineH())
		if i == 0 {
			d.color(grey)
			d.text(marginX, d.y, d.clean(label))
			d.color(black)
		}
		d.text(marginX+labelW, d.y, l)
		d.y += d.lineH()
	}
}

// cell is one table cell.
type cell struct {
	s     string
	bold  bool
	color rgb
}

func plain(s string) cell { return cell{s: s} }

// column is a table column: its title and width in points.
type column struct {
	title string
	w     float64
}

// table draws rows under a header that repeats on every page the table
// spans. Cells wrap; a row never splits across pages.
func (d *pdfDoc) table(cols []column, rows [][]cell, size float64) {
	const pad = 3.0
	// measure wraps a row's cells and returns them with the row's height.
	measure := func(row []cell, header bool) ([][]string, float64) {
		h := 0.0
		wrapped := make([][]string, len(cols))
		for i := range cols {
			var c cell
			if i < len(row) {
				c = row[i]
			}
			d.font(c.bold || header, size)
			wrapped[i] = d.wrap(c.s, cols[i].w-2*pad)
			h = max(h, float64(len(wrapped[i]))*d.lineH())
		}
		return wrapped, h + 2*pad
	}
	head := make([]cell, len(cols))
	for i, c := range cols {
		head[i] = cell{s: c.title, bold: true}
	}
	draw := func(row []cell, wrapped [][]string, h float64, header bool) {
		d.pdf.SetStrokeColor(150, 150, 150)
		d.pdf.SetLineWidth(0.4)
		x := marginX
		for i, c := range cols {
			var rc cell
			if i < len(row) {
				rc = row[i]
			}
			if header {
				// Text and fill share PDF's non-stroking colour: set both each time.
				d.pdf.SetFillColor(232, 232, 232)
				d.pdf.RectFromUpperLeftWithStyle(x, d.y, c.w, h, "FD")
			} else {
				d.pdf.RectFromUpperLeftWithStyle(x, d.y, c.w, h, "D")
			}
			d.font(rc.bold, size)
			d.color(rc.color)
			for j, l := range wrapped[i] {
				d.text(x+pad, d.y+pad+float64(j)*d.lineH(), l)
			}
			x += c.w
		}
		d.color(black)
		d.y += h
	}
	hw, hh := measure(head, true)
	for i, row := range rows {
		wrapped, h := measure(row, false)
		if i == 0 || d.y+h > d.bottom() {
			// The header goes with at least one row, on every page.
			if d.y+hh+h > d.bottom() {
				d.newPage()
			}
			draw(head, hw, hh, true)
		}
		draw(row, wrapped, h, false)
	}
	if len(rows) == 0 {
		d.ensure(hh)
		draw(head, hw, hh, true)
	}
	d.gap(4)
}

// bytes writes the page numbers and returns the document.
func (d *pdfDoc) bytes() ([]byte, error) {
	if d.fontErrs != nil {
		return nil, fmt.Errorf("report: set font: %w", d.fontErrs)
	}
	n := d.pdf.GetNumberOfPages()
	for i := 1; i <= n; i++ {
		if err := d.pdf.SetPage(i); err != nil {
			return nil, fmt.Errorf("report: page %d: %w", i, err)
		}
		d.font(false, 7.5)
		d.color(grey)
		s := d.lang.f(text{"Halaman %d dari %d", "Page %d of %d"}, i, n)
		d.pdf.SetXY(d.pageW-marginX-d.width(s), d.pageH-26)
		d.pdf.Text(s)
	}
	b, err := d.pdf.GetBytesPdfReturnErr()
	if err != nil {
		return nil, fmt.Errorf("report: write pdf: %w", err)
	}
	return b, nil
}
