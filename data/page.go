package data

import (
	"bytes"
	"math"
	"slices"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding"
)

// typedPage is a page of a flat column decoded into the column's kind, so
// that a cursor appends its rows to a batch with one branch per row, where
// parquet-go's ValueReader hands out a 24-byte parquet.Value per cell for
// Column.append to switch on. The values come straight from the page's
// typed buffers (Page.Data), looked up in the dictionary for an indexed
// page. parquet-go has no typed reader for optional columns (their page
// holds the non-null values and a definition level per row), so the merge
// of the two is written here.
type typedPage struct {
	defs []byte // a definition level per row; nil for a required column
	rows int    // rows in the page
	row  int    // next row to append
	val  int    // next value to append: row less the nulls before it

	num   []float64 // KindFloat and KindInt columns
	ints  []int64   // KindInt
	bools []bool    // KindBool
	// A text column's values are either the page's own bytes (plain
	// encoding: raw and offs, which the page keeps until it is released)
	// or indexes into the dictionary (idx, dict).
	raw  []byte
	offs []uint32
	idx  []int32
	dict *pageDict
}

// pageDict is a column chunk's dictionary, decoded once for all the pages
// that refer to it.
type pageDict struct {
	of    parquet.Dictionary
	num   []float64
	ints  []int64
	bools []bool
	strs  []string
	bad   [][]byte // per text entry, its bytes when they are not UTF-8
}

// decodePage decodes page into p for column c (its kind, decimal scale and
// signedness), reusing p's buffers; dict holds the column chunk's decoded
// dictionary. It is false for a page it does not handle, which the caller
// then reads value by value: one with repetition levels, or whose physical
// type is not one the column's kind is read from.
func decodePage(page parquet.Page, c *Column, p *typedPage, dict *pageDict) bool {
	if len(page.RepetitionLevels()) > 0 {
		return false
	}
	*p = typedPage{defs: page.DefinitionLevels(), rows: int(page.NumRows()),
		num: p.num[:0], ints: p.ints[:0], bools: p.bools[:0], idx: p.idx[:0]}
	if !c.Optional {
		p.defs = nil
	} else if len(p.defs) != p.rows {
		return false
	}
	data := page.Data()
	d := page.Dictionary()
	if d == nil {
		if c.Kind == KindString {
			if data.Kind() != encoding.ByteArray {
				return false
			}
			p.raw, p.offs = data.ByteArray()
			return true
		}
		return decodeValues(data, c, &p.num, &p.ints, &p.bools)
	}
	if data.Kind() != encoding.Int32 {
		return false
	}
	if dict.of != d {
		*dict = pageDict{of: d, num: dict.num[:0], ints: dict.ints[:0], bools: dict.bools[:0], strs: dict.strs[:0]}
		if !dict.decode(c) {
			dict.of = nil
			return false
		}
	}
	idx := data.Int32()
	switch c.Kind {
	case KindFloat:
		p.num = gather(p.num, dict.num, idx)
	case KindInt:
		p.num, p.ints = gather(p.num, dict.num, idx), gather(p.ints, dict.ints, idx)
	case KindBool:
		p.bools = gather(p.bools, dict.bools, idx)
	default:
		p.idx, p.dict = append(p.idx, idx...), dict
	}
	return true
}

// gather appends from's values at idx to dst. An index past the dictionary
// panics: a corrupt page, recovered by readColumn.
func gather[T any](dst, from []T, idx []int32) []T {
	for _, i := range idx {
		dst = append(dst, from[i])
	}
	return dst
}

// decode fills the dictionary's values for column c from its page.
func (d *pageDict) decode(c *Column) bool {
	data := d.of.Page().Data()
	if c.Kind != KindString {
		return decodeValues(data, c, &d.num, &d.ints, &d.bools)
	}
	if data.Kind() != encoding.ByteArray {
		return false
	}
	raw, offs := data.ByteArray()
	for i := 0; i+1 < len(offs); i++ {
		s := raw[offs[i]:offs[i+1]]
		if !utf8.Valid(s) {
			if d.bad == nil {
				d.bad = make([][]byte, len(offs)-1)
			}
			d.bad[i] = bytes.Clone(s)
		}
		d.strs = append(d.strs, string(s))
	}
	return true
}

// decodeValues appends data's values, converted to c's kind, to the slice
// of that kind. It is false for a physical type the kind is not read from.
func decodeValues(data encoding.Values, c *Column, num *[]float64, ints *[]int64, bools *[]bool) bool {
	switch c.Kind {
	case KindFloat:
		scale := math.Pow10(c.scale)
		switch data.Kind() {
		case encoding.Double:
			*num = append(*num, data.Double()...)
		case encoding.Float:
			for _, x := range data.Float() {
				*num = append(*num, float64(x))
			}
		case encoding.Int32: // a decimal
			for _, x := range data.Int32() {
				*num = append(*num, float64(x)/scale)
			}
		case encoding.Int64:
			for _, x := range data.Int64() {
				*num = append(*num, float64(x)/scale)
			}
		default:
			return false
		}
	case KindInt:
		switch data.Kind() {
		case encoding.Int32:
			for _, x := range data.Int32() {
				i := int64(x)
				if c.unsigned {
					i = int64(uint32(x))
				}
				*ints, *num = append(*ints, i), append(*num, float64(i))
			}
		case encoding.Int64:
			for _, i := range data.Int64() {
				*ints, *num = append(*ints, i), append(*num, float64(i))
			}
		default:
			return false
		}
	case KindBool:
		if data.Kind() != encoding.Boolean {
			return false
		}
		// Bit-packed, the first value in the lowest bit. A page read from
		// a file starts at bit 0: only Page.Slice moves the start, and the
		// reader never slices. Padding bits past the last value are
		// decoded too, and never read.
		for _, b := range data.Boolean() {
			for k := range 8 {
				*bools = append(*bools, b>>k&1 != 0)
			}
		}
	default:
		return false
	}
	return true
}

// appendRows appends up to n of the page's rows to c and returns how many.
// It stops at text that is not UTF-8, with the error Column.append gives.
func (p *typedPage) appendRows(c *Column, n int) (int, error) {
	n = min(n, p.rows-p.row)
	start := len(c.Valid)
	c.Valid = extend(c.Valid, n)
	valid := c.Valid[start:]
	present := func(k int) bool { return p.defs == nil || p.defs[p.row+k] != 0 }
	v := p.val
	switch c.Kind {
	case KindFloat:
		c.Num = extend(c.Num, n)
		num := c.Num[start:]
		for k := range n {
			if !present(k) {
				valid[k], num[k] = false, 0
				continue
			}
			x := p.num[v]
			v++
			valid[k], num[k] = !math.IsNaN(x), x
		}
	case KindInt:
		c.Num, c.Int = extend(c.Num, n), extend(c.Int, n)
		num, ints := c.Num[start:], c.Int[start:]
		for k := range n {
			if !present(k) {
				valid[k], num[k], ints[k] = false, 0, 0
				continue
			}
			valid[k], num[k], ints[k] = true, p.num[v], p.ints[v]
			v++
		}
	case KindBool:
		c.Bool = extend(c.Bool, n)
		bools := c.Bool[start:]
		for k := range n {
			if !present(k) {
				valid[k], bools[k] = false, false
				continue
			}
			valid[k], bools[k] = true, p.bools[v]
			v++
		}
	case KindString:
		c.Str = extend(c.Str, n)
		strs := c.Str[start:]
		for k := range n {
			if !present(k) {
				valid[k], strs[k] = false, ""
				continue
			}
			s, err := p.text(c, v, start+k)
			if err != nil {
				// The rows before it are appended, as value by value.
				c.Valid, c.Str = c.Valid[:start+k], c.Str[:start+k]
				p.row, p.val = p.row+k, v
				return k, err
			}
			valid[k], strs[k] = true, s
			v++
		}
	}
	p.row, p.val = p.row+n, v
	return n, nil
}

// text returns the page's v-th text value, to be the index-th of c's batch.
func (p *typedPage) text(c *Column, v, index int) (string, error) {
	if p.dict != nil {
		i := p.idx[v]
		if p.dict.bad != nil && p.dict.bad[i] != nil {
			return "", notUTF8(index, p.dict.bad[i])
		}
		return p.dict.strs[i], nil // shared by every row that refers to the entry
	}
	b := p.raw[p.offs[v]:p.offs[v+1]]
	if s, ok := c.intern[string(b)]; ok { // the conversion in a map index does not allocate
		return s, nil
	}
	if !utf8.Valid(b) {
		return "", notUTF8(index, b)
	}
	return c.share(string(b)), nil
}

// extend returns s lengthened by n elements, whose values the caller sets.
func extend[T any](s []T, n int) []T {
	return slices.Grow(s, n)[:len(s)+n]
}
