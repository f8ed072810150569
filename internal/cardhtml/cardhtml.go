// Package cardhtml renders a model card (Markdown, with its plots beside
// it) as one self-contained HTML file: the plots inlined, nothing fetched,
// for collaborators, ethics committees and clinicians who will not open a
// Markdown file and a folder of SVGs. It uses goldmark, with GitHub's
// tables; the card's text is escaped, never passed through as HTML.
package cardhtml

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"path"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// style keeps the page readable without fetching anything.
const style = `body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45;color:#222}
table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #ccc;padding:.25rem .6rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}blockquote{border-left:4px solid #c33;margin:1rem 0;padding:.2rem 1rem;background:#fff4f4}
img{max-width:100%;height:auto}code{background:#f3f3f3;padding:0 .2rem}`

// Render renders the card's Markdown as an HTML page under title; an image
// whose target is a file of plots (by its base name, an .svg) is inlined
// from it. An image naming a file that is not there is an error: the page
// would show a broken image.
func Render(title string, card []byte, plots map[string][]byte) ([]byte, error) {
	md := goldmark.New(goldmark.WithExtensions(extension.Table),
		goldmark.WithRendererOptions(renderer.WithNodeRenderers(util.Prioritized(plotRenderer{}, 100))))
	doc := md.Parser().Parse(text.NewReader(card))
	var missing []string
	err := ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		img, ok := n.(*ast.Image)
		if !entering || !ok {
			return ast.WalkContinue, nil
		}
		name := string(img.Destination)
		svg, found := plots[name]
		if !found || path.Base(name) != name || !strings.HasSuffix(name, ".svg") {
			missing = append(missing, name)
			return ast.WalkContinue, nil
		}
		img.Destination = []byte("data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString(svg))
		return ast.WalkContinue, nil
	})
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("the card shows %s, which the version does not hold", strings.Join(missing, ", "))
	}
	var body bytes.Buffer
	if err := md.Renderer().Render(&body, card, doc); err != nil {
		return nil, err
	}
	var page bytes.Buffer
	fmt.Fprintf(&page, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>%s</title>\n<style>%s</style>\n</head>\n<body>\n",
		html.EscapeString(title), style)
	page.Write(body.Bytes())
	page.WriteString("</body>\n</html>\n")
	return page.Bytes(), nil
}

// plotRenderer writes the card's images, every one a plot Render inlined as
// a data URI: goldmark's own renderer refuses SVG data URIs (an SVG opened
// on its own may run script; in an img element it cannot). Render has
// refused any image that is not one of the version's plots.
type plotRenderer struct{}

func (plotRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindImage, func(w util.BufWriter, source []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		img := n.(*ast.Image)
		var alt bytes.Buffer
		for c := img.FirstChild(); c != nil; c = c.NextSibling() {
			if t, ok := c.(*ast.Text); ok {
				alt.Write(t.Segment.Value(source))
			}
		}
		fmt.Fprintf(w, `<img src="%s" alt="%s">`, html.EscapeString(string(img.Destination)), html.EscapeString(alt.String()))
		return ast.WalkSkipChildren, nil
	})
}
