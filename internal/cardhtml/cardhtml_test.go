package cardhtml

import (
	"encoding/base64"
	"strings"
	"testing"
)

// TestRender: tables, the plots inlined as data URIs, the card's text
// escaped (HTML in it is shown, not run), and an image the version lacks
// refused.
func TestRender(t *testing.T) {
	svg := []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>`)
	card := "# Model card: m\n\n> **SYNTHETIC**\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n![calibration curve](calibration.svg)\n\n" +
		"file `<script>alert(1)</script>` and <b>bold</b> <script>alert(2)</script>\n"
	page, err := Render(`m:v1 <&>`, []byte(card), map[string][]byte{"calibration.svg": svg, "card.md": []byte(card)})
	if err != nil {
		t.Fatal(err)
	}
	got := string(page)
	for _, want := range []string{
		"<title>m:v1 &lt;&amp;&gt;</title>",
		"<table>", "<th>a</th>", "<td>2</td>",
		`<img src="data:image/svg+xml;base64,` + base64.StdEncoding.EncodeToString(svg) + `" alt="calibration curve">`,
		"<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>",
		"<blockquote>",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("page lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "<script>") || strings.Contains(got, "<b>bold</b>") {
		t.Errorf("raw HTML of the card passed through:\n%s", got)
	}
	for _, bad := range []string{"![x](decision_curve.svg)", "![x](../secret.svg)", "![x](javascript:alert(1))", "![x](calibration.png)"} {
		if _, err := Render("m", []byte(bad), map[string][]byte{"calibration.svg": svg, "calibration.png": svg}); err == nil || !strings.Contains(err.Error(), "which the version does not hold") {
			t.Errorf("%s: err = %v", bad, err)
		}
	}
}
