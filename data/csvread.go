package data

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrCSV is wrapped by every error about a CSV file's structure: no header,
// a duplicate column, a row of the wrong width, a stray quote, text that is
// not UTF-8.
var ErrCSV = errors.New("malformed CSV file")

// IsCSV reports whether path names a file of delimited text, by its
// extension in any case: .csv, .tsv or .txt (tab-separated, as cBioPortal's
// clinical files and R's write.table give), or any of them with .gz for one
// compressed with gzip. OpenTable reads such a file as CSV, its separator
// found in the header line, and any other as Parquet.
func IsCSV(path string) bool {
	ext := strings.ToLower(filepath.Ext(strings.TrimSuffix(strings.ToLower(path), ".gz")))
	return ext == ".csv" || ext == ".tsv" || ext == ".txt"
}

func isGzipCSV(path string) bool {
	return IsCSV(path) && strings.HasSuffix(strings.ToLower(path), ".gz")
}

// csvInput rewinds f and returns its text: f itself, or for a .csv.gz file
// what gzip (compress/gzip) makes of it.
func csvInput(path string, f *os.File) (io.Reader, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if !isGzipCSV(path) {
		return f, nil
	}
	z, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: not gzip-compressed (%v), though named .gz", path, ErrCSV, err)
	}
	return z, nil
}

// NullSpellings are the CSV fields read as null, in every column: an empty
// field (what pandas, DuckDB, Excel and abscopal write for a missing
// value), R's NA, Excel's #N/A, numpy's NaN and SQL's NULL. A string
// column cannot hold them as values.
var NullSpellings = []string{"", "NA", "N/A", "#N/A", "NaN", "nan", "NULL", "null"}

func isNullText(s string) bool {
	switch s { // NullSpellings, as a switch: it runs for every field read
	case "", "NA", "N/A", "#N/A", "NaN", "nan", "NULL", "null":
		return true
	}
	return false
}

// The types a CSV column is given, for messages (ColumnInfo.Type).
const (
	csvInteger = "CSV integers"
	csvNumber  = "CSV numbers"
	csvBool    = "CSV true/false"
	csvText    = "CSV text"
	csvEmpty   = "CSV empty column"
	csvCodes   = "CSV text: integer codes with leading zeros"
	csvNotRead = "CSV, not typed: not read"
)

var csvTypes = map[Kind]string{KindInt: csvInteger, KindFloat: csvNumber, KindBool: csvBool, KindString: csvText}

// csvSource streams the rows of a CSV file. A CSV column has no type of its
// own: OpenTable reads the whole file once first and gives each column it
// is asked to read the narrowest kind all its values fit (integers, then
// numbers, then true or false, else text), so that no value late in the
// file can surprise a reader that checked the types at the start. Columns
// the caller gives a kind in TableOptions.Kinds are not typed again (the
// cohort reader takes its columns as text and parses each value against
// the schema, so that a bad value is an invalid row, not an unreadable
// file), nor are those it does not ask for: a probe that reads no column
// costs no pass. encoding/csv does the parsing (RFC 4180); this is only the
// typing, which no maintained Go library does to these rules.
type csvSource struct {
	path string
	f    *os.File
	r    *csv.Reader
	rows int64 // -1 until counted
	meta map[string]string
}

func (s *csvSource) numRows() int64 {
	if s.rows < 0 {
		s.rows = countCSVRows(s.path)
	}
	return s.rows
}

func (s *csvSource) text() bool { return true }

func (s *csvSource) metadata() map[string]string { return maps.Clone(s.meta) }

func (s *csvSource) close() {}

// openCSV reads the header of a CSV file, with no pass over its rows: each
// column is untyped (KindUnsupported) until types gives it a kind.
// PATH.meta.json, the sidecar the CSV writer leaves, is the file's metadata
// when it exists.
func openCSV(path string, f *os.File) (*csvSource, []ColumnInfo, error) {
	in, err := csvInput(path, f)
	if err != nil {
		return nil, nil, err
	}
	header, r, err := csvHeader(path, in)
	if err != nil {
		return nil, nil, err
	}
	meta, err := readSidecar(path)
	if err != nil {
		return nil, nil, err
	}
	comma := r.Comma == ';' // numbers then have a decimal comma
	cols := make([]ColumnInfo, len(header))
	for j, name := range header {
		cols[j] = ColumnInfo{Name: name, Optional: true, Text: true, DecimalComma: comma, index: j, Kind: KindUnsupported, Type: csvNotRead}
	}
	return &csvSource{path: path, f: f, r: r, rows: -1, meta: meta}, cols, nil
}

// types types the columns to read (all when opts.Columns is nil) that are
// not given a kind in opts.Kinds, from a pass over the rows (none when
// there are none such), and returns the columns with their kinds; the
// reader is back on the first row after.
func (s *csvSource) types(cols []ColumnInfo, opts TableOptions) ([]ColumnInfo, error) {
	path, r := s.path, s.r
	selected, given := opts.Columns, opts.Kinds
	comma := r.Comma == ';' // numbers then have a decimal comma
	type seen struct {
		values, notInt, notNum, notBool bool
		zeroLed                         bool   // an integer written with a leading zero
		notNumber                       string // the first value that is not a number, and its row
	}
	kinds := make([]seen, len(cols))
	var typed []int // the columns to type
	for j, c := range cols {
		if _, ok := given[c.Name]; !ok && (selected == nil || slices.Contains(selected, c.Name)) {
			typed = append(typed, j)
		}
	}
	rows := int64(-1)
	if len(typed) > 0 {
		rows = 0
	}
	for len(typed) > 0 {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvError(path, err)
		}
		rows++
		for _, j := range typed {
			s := rec[j]
			if isNullText(s) {
				continue
			}
			k := &kinds[j]
			k.values = true
			t := strings.TrimSpace(s)
			if !k.notInt {
				if _, err := strconv.ParseInt(t, 10, 64); err != nil {
					k.notInt = true
				} else if d := strings.TrimLeft(t, "+-"); len(d) > 1 && d[0] == '0' {
					k.zeroLed = true
				}
			}
			if k.notInt && !k.notNum {
				if _, err := parseNumber(t, comma); err != nil {
					k.notNum = true
					k.notNumber = fmt.Sprintf("row %d: %q is not a number", rows, s)
					if errors.Is(err, errDecimalPoint) {
						k.notNumber += " " + err.Error()
					}
				}
			}
			if !k.notBool {
				if _, ok := parseBoolWord(t); !ok {
					k.notBool = true
				}
			}
		}
	}
	out := slices.Clone(cols)
	for j := range out {
		c := &out[j]
		k := kinds[j]
		g, isGiven := given[c.Name]
		switch {
		case isGiven:
			c.Kind, c.Type = g, csvTypes[g]
		case !slices.Contains(typed, j):
			continue // as it was
		case !k.values:
			c.Kind, c.Type = KindString, csvEmpty
		case !k.notInt && k.zeroLed && slices.Contains(opts.Codes, c.Name):
			c.Kind, c.Type = KindString, csvCodes
		case !k.notInt:
			c.Kind, c.Type = KindInt, csvInteger
		case !k.notNum:
			c.Kind, c.Type = KindFloat, csvNumber
		case !k.notBool:
			c.Kind, c.Type = KindBool, csvBool
		default:
			c.Kind, c.Type, c.NotNumber = KindString, csvText, k.notNumber
		}
	}
	if len(typed) > 0 {
		s.rows = rows
		in, err := csvInput(path, s.f)
		if err != nil {
			return nil, err
		}
		if _, s.r, err = csvHeader(path, in); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// csvHeader reads the header line and returns its names and a reader
// positioned on the first row, separated as the header line is (separator).
func csvHeader(path string, f io.Reader) ([]string, *csv.Reader, error) {
	in := bufio.NewReaderSize(f, 1<<16)
	// The byte-order mark Excel and R's "UTF-8-BOM" write goes before the
	// parser sees it: ahead of a quoted name it would make the quote a
	// stray one.
	if bom, err := in.Peek(3); err == nil && string(bom) == "\ufeff" {
		in.Discard(3)
	}
	r := csv.NewReader(in)
	if text, err := in.Peek(in.Size()); len(text) > 0 && (err == nil || errors.Is(err, io.EOF)) {
		line, rest, _ := bytes.Cut(text, []byte("\n"))
		// cBioPortal's clinical files open with lines of display names,
		// descriptions, types and priorities, each after a '#' and
		// tab-separated, above the header: they are skipped, and only they.
		// One such line is a header itself ("#id", as some tools write it),
		// and a header of comma-separated values may start with '#' too.
		if second, _, _ := bytes.Cut(rest, []byte("\n")); bytes.HasPrefix(line, []byte("#")) && bytes.ContainsRune(line, '\t') &&
			bytes.HasPrefix(second, []byte("#")) {
			r.Comment = '#'
			for bytes.HasPrefix(line, []byte("#")) && len(rest) > 0 {
				line, rest, _ = bytes.Cut(rest, []byte("\n"))
			}
		}
		r.Comma = separator(bytes.TrimSuffix(line, []byte("\r")))
	}
	header, err := r.Read()
	r.Comment = 0 // a row that starts with '#' is data
	if errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("%s: %w: empty (no header line)", path, ErrCSV)
	}
	if err != nil {
		return nil, nil, csvError(path, err)
	}
	header = slices.Clone(header)
	for j, name := range header {
		if !utf8.ValidString(name) {
			return nil, nil, fmt.Errorf("%s: %w: the header's column %d is %v", path, ErrCSV, j+1, errNotUTF8)
		}
	}
	for j, name := range header {
		if strings.TrimSpace(name) == "" {
			// Excel keeps columns whose cells were cleared, R's write.csv
			// writes the row names under an empty name: named by place,
			// they are columns outside the schema, which no one reads.
			header[j] = fmt.Sprintf("(unnamed column %d)", j+1)
		}
	}
	for j, name := range header {
		if k := slices.Index(header, name); k < j {
			return nil, nil, fmt.Errorf("%s: %w: column %q appears twice in the header (columns %d and %d)", path, ErrCSV, name, k+1, j+1)
		}
	}
	r.ReuseRecord = true
	r.FieldsPerRecord = len(header)
	return header, r, nil
}

// separator returns the separator of a header line's names: of a comma, a
// tab and a semicolon, the one that splits it (outside quotes) into the most
// names, a comma on a tie. So a name may hold either of the others: "dose,
// Gy" in a tab-separated file, "dose; Gy" (quoted) in a comma-separated one;
// and R's write.csv2, quoting every name, is read at semicolons.
func separator(line []byte) rune {
	best, most := ',', 0
	for _, sep := range []rune{',', '\t', ';'} {
		r := csv.NewReader(bytes.NewReader(line))
		r.Comma = sep
		if names, err := r.Read(); err == nil && len(names) > most {
			best, most = sep, len(names)
		}
	}
	return best
}

// csvError names the line of a parse error; the row is one less, the header
// being line 1, unless a quoted field spans lines.
func csvError(path string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w: line %d: %v", path, ErrCSV, pe.Line, pe.Err)
	}
	return fmt.Errorf("%s: %w", path, err)
}

func readSidecar(path string) (map[string]string, error) {
	b, err := os.ReadFile(path + ".meta.json")
	if errors.Is(err, os.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s.meta.json: %w", path, err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s.meta.json: not the JSON object of strings the CSV writer leaves: %w", path, err)
	}
	return m, nil
}

// parseBoolWord reads true or false in any case (Go and DuckDB write
// lowercase, pandas True/False, R and Excel TRUE/FALSE).
func parseBoolWord(s string) (bool, bool) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

// read appends up to n rows to the batch's columns (cols index the file's
// columns); it returns the rows read.
func (s *csvSource) read(cols []ColumnInfo, b *Batch, firstRow int64, n int) (int, error) {
	path := s.path
	for i := range b.Columns {
		b.Columns[i].reset()
	}
	got := 0
	for got < n {
		rec, err := s.r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, csvError(path, err)
		}
		for i, info := range cols {
			if err := b.Columns[i].appendText(rec[info.index]); err != nil {
				line, _ := s.r.FieldPos(info.index)
				if !errors.Is(err, errNotUTF8) {
					err = fmt.Errorf("%w; the file changed since it was opened", err)
				}
				return 0, fmt.Errorf("%s: %w: row %d (line %d), column %s: %v", path, ErrCSV, firstRow+int64(got), line, info.Name, err)
			}
		}
		got++
	}
	return got, nil
}

// appendText appends one CSV field to the column, as its kind.
func (c *Column) appendText(s string) error {
	if isNullText(s) {
		c.appendNull()
		return nil
	}
	t := strings.TrimSpace(s)
	switch c.Kind {
	case KindFloat:
		x, err := parseNumber(t, c.DecimalComma)
		if errors.Is(err, errDecimalPoint) {
			return fmt.Errorf("%q is not a number %w", s, err)
		}
		if err != nil {
			return fmt.Errorf("%q is not a number", s)
		}
		c.Valid, c.Num = append(c.Valid, true), append(c.Num, x)
	case KindInt:
		i, err := strconv.ParseInt(t, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not an integer", s)
		}
		c.Valid, c.Num, c.Int = append(c.Valid, true), append(c.Num, float64(i)), append(c.Int, i)
	case KindBool:
		v, ok := parseBoolWord(t)
		if !ok {
			return fmt.Errorf("%q is not true or false", s)
		}
		c.Valid, c.Bool = append(c.Valid, true), append(c.Bool, v)
	default:
		if !utf8.ValidString(s) {
			return errNotUTF8
		}
		c.Valid, c.Str = append(c.Valid, true), append(c.Str, c.internText(s))
	}
	return nil
}

// errNotUTF8 is a text field in another encoding: most often a Windows
// code page, which Excel's "CSV (Comma delimited)" writes. Passed on, it
// would make Parquet outputs that other tools refuse to read.
var errNotUTF8 = errors.New(`not UTF-8 text: the file is likely in a Windows code page (Excel's "CSV (Comma delimited)"); save it as "CSV UTF-8"`)

// ParseText reads a CSV field as a value of the field's kind: a number for
// float and int fields (an int field's whole-number check is Check's, so
// pandas' 5.0 for an integer column with nulls is 5), with a decimal comma
// if decimalComma (a semicolon-separated file), true or false in any
// case or 1 or 0 for bool fields (REDCap and R write 1 and 0), the text
// itself for string fields; a NullSpellings entry is null.
func (f *Field) ParseText(s string, decimalComma bool) (Value, *FieldError) {
	if isNullText(s) {
		return Null, nil
	}
	t := strings.TrimSpace(s)
	switch f.Kind {
	case KindFloat, KindInt:
		x, err := parseNumber(t, decimalComma)
		if err != nil {
			allowed := "a number"
			if f.HasRange {
				allowed = "a number in " + f.Allowed()
			}
			if errors.Is(err, errDecimalPoint) {
				allowed += ", " + err.Error()
			}
			return Null, &FieldError{Field: f.Name, Reason: ReasonType, Value: strconv.Quote(s), Allowed: allowed}
		}
		return Float(x), nil
	case KindBool:
		if v, ok := parseBoolWord(t); ok {
			return Bool(v), nil
		}
		switch t {
		case "1":
			return Bool(true), nil
		case "0":
			return Bool(false), nil
		}
		return Null, &FieldError{Field: f.Name, Reason: ReasonType, Value: strconv.Quote(s), Allowed: "true or false (or 1 or 0)"}
	default:
		return String(s), nil
	}
}

// errDecimalPoint is a number written with a point in a semicolon-separated
// file. Such files (Excel where the decimal mark is a comma, R's
// write.csv2) write 1,5 for one and a half, and a point there may be a
// thousands separator: 1.234 is 1234 or 1.234, and abscopal does not guess.
var errDecimalPoint = errors.New("in a semicolon-separated file, whose decimal mark is a comma (1234,5): a point may separate thousands")

// parseNumber reads a CSV number, written with a decimal comma if
// decimalComma.
func parseNumber(t string, decimalComma bool) (float64, error) {
	if decimalComma {
		if strings.Contains(t, ".") {
			return 0, errDecimalPoint
		}
		t = strings.Replace(t, ",", ".", 1)
	}
	return strconv.ParseFloat(t, 64)
}

// countCSVRows counts the rows of a CSV file that opened without a pass over
// them; -1 if it cannot be read again.
func countCSVRows(path string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return -1
	}
	defer f.Close()
	in, err := csvInput(path, f)
	if err != nil {
		return -1
	}
	_, r, err := csvHeader(path, in)
	if err != nil {
		return -1
	}
	var n int64
	for {
		if _, err := r.Read(); errors.Is(err, io.EOF) {
			return n
		} else if err != nil {
			return -1
		}
		n++
	}
}
