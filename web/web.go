// Package web provides abscopal's what-if calculator: a page, served at /
// by "abscopal serve", on which a clinician or researcher describes a
// patient and sees each target's probability, why, how sure the model is,
// and what each radiotherapy regimen would change.
//
// The page is a client of the /v1 API like any other (predict, regimens,
// score, models): it has no second code path to the models. It is built
// from the cohort schema with html/template, its script and style are
// embedded files, and it loads nothing from anywhere else, so it works
// offline and under a strict Content-Security-Policy (no inline script,
// no eval).
package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/abscopal/abscopal/data"
)

//go:embed page.html.tmpl
var pageTemplate string

//go:embed assets
var assets embed.FS

// Options configures the page.
type Options struct {
	// Regimens are the regimens the comparison offers before the user adds
	// any (the API's default regimens); they are encoded as JSON.
	Regimens any
	// Example fills the form when the page opens, by field name: a patient
	// to start from, so that the first view shows an answer.
	Example map[string]string
	// AssetPrefix is the path under which Page serves its script and style
	// (default "/ui/").
	AssetPrefix string
}

// Page serves the calculator: the HTML page, rendered once, and its assets.
type Page struct {
	html   []byte
	prefix string
	files  fs.FS
}

// ContentSecurityPolicy is the policy of the page: its own script and
// style only, no inline script or eval, no frames of it anywhere, no form
// submitted anywhere (the script posts to the API), connections to its own
// origin only. Images are its own, data: URIs, and blob: for the card.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"

// field is one form control, from a cohort schema field.
type field struct {
	data.FieldInfo
	Control string // "text", "number", "select"
	Step    string // "1" for integers, "any" otherwise
	Options []option
	Allowed string // the allowed values in words, as the API's errors say
	Need    string // "required", "required with radiotherapy", "may be unknown"
	Value   string // the example's
}

type option struct{ Value, Label string }

type group struct {
	Name   string
	Fields []field
}

// New renders the page from the cohort schema and the options.
func New(o Options) (*Page, error) {
	if o.AssetPrefix == "" {
		o.AssetPrefix = "/ui/"
	}
	var groups []group
	for _, f := range data.CohortFields() {
		if f.Outcome || f.Synthetic {
			continue
		}
		fi := f.Info()
		fd := field{FieldInfo: fi, Allowed: f.Allowed(), Value: o.Example[f.Name]}
		switch {
		case fi.Required:
			fd.Need = "required"
		case fi.RequiredWhenRT:
			fd.Need = "required with radiotherapy"
		default:
			fd.Need = "may be unknown"
		}
		switch {
		case f.Categorical():
			fd.Control = "select"
			for _, l := range f.Levels {
				fd.Options = append(fd.Options, option{l, strings.ReplaceAll(l, "_", " ")})
			}
		case f.Kind == data.KindBool:
			fd.Control = "select"
			fd.Options = []option{{"true", "yes"}, {"false", "no"}}
		case f.Kind == data.KindString:
			fd.Control = "text"
		default:
			fd.Control, fd.Step = "number", "any"
			if f.Kind == data.KindInt {
				fd.Step = "1"
			}
		}
		if n := len(groups); n == 0 || groups[n-1].Name != fi.Group {
			groups = append(groups, group{Name: fi.Group})
		}
		groups[len(groups)-1].Fields = append(groups[len(groups)-1].Fields, fd)
	}
	levels := func(name string) []option {
		for _, g := range groups {
			for _, f := range g.Fields {
				if f.Name == name {
					return f.Options
				}
			}
		}
		return nil
	}
	regimens, err := json.Marshal(o.Regimens)
	if err != nil {
		return nil, fmt.Errorf("web: the regimens: %w", err)
	}
	t, err := template.New("page").Funcs(template.FuncMap{
		"num": func(p *float64) string {
			if p == nil {
				return ""
			}
			return strconv.FormatFloat(*p, 'g', -1, 64)
		},
		"title": func(s string) string {
			if s == "" {
				return s
			}
			return strings.ToUpper(s[:1]) + s[1:]
		},
	}).Parse(pageTemplate)
	if err != nil {
		return nil, fmt.Errorf("web: the page template: %w", err)
	}
	var buf bytes.Buffer
	err = t.Execute(&buf, struct {
		Groups           []group
		Prefix, Regimens string
		Sites, Sequences []option
	}{groups, o.AssetPrefix, string(regimens), levels("rt_site"), levels("rt_ici_sequence")})
	if err != nil {
		return nil, fmt.Errorf("web: rendering the page: %w", err)
	}
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		return nil, err
	}
	return &Page{html: buf.Bytes(), prefix: o.AssetPrefix, files: sub}, nil
}

// ServeHTTP answers the page for its own path and the assets under the
// asset prefix, each with the page's security headers.
func (p *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name, isAsset := strings.CutPrefix(r.URL.Path, p.prefix)
	if !isAsset {
		h.Set("Content-Type", "text/html; charset=utf-8")
		w.Write(p.html)
		return
	}
	b, err := fs.ReadFile(p.files, name)
	if err != nil || strings.Contains(name, "/") {
		http.NotFound(w, r)
		return
	}
	switch path.Ext(name) {
	case ".js":
		h.Set("Content-Type", "text/javascript; charset=utf-8")
	case ".css":
		h.Set("Content-Type", "text/css; charset=utf-8")
	default:
		h.Set("Content-Type", "application/octet-stream")
	}
	w.Write(b)
}

// ExamplePatient is the patient the form starts from: one with
// radiotherapy (8 Gy x 3 to the lung before a PD-1 inhibitor), so that the
// first view shows every target and the regimens side by side. Fields it
// leaves out are unknown.
func ExamplePatient() map[string]string {
	return map[string]string{
		"patient_id": "example", "ici_class": "pd1", "mhc1_status": "high", "pdl1_tps": "50", "alc": "1.4",
		"rt_dose_gy": "24", "rt_fractions": "3", "rt_site": "lung", "rt_ici_sequence": "rt_before_ici",
		"age": "66", "ecog": "1", "stage": "IV", "histology": "adenocarcinoma",
	}
}
