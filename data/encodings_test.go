package data

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// sparkStyleRow is written the way Spark and pyarrow (with
// use_dictionary=False, data_page_version="2.0") write: data page V2,
// optional columns, delta-encoded integers and strings, byte-stream-split
// doubles, and 32-bit integers with an INT(8) logical type. parquet-go takes
// "delta" only on value fields, where "optional" writes the zero value as null.
type sparkStyleRow struct {
	PatientID   string   `parquet:"patient_id,delta"`
	ICIClass    *string  `parquet:"ici_class,optional,dict"`
	RTDoseGy    *float64 `parquet:"rt_dose_gy,optional,split"`
	RTFractions int32    `parquet:"rt_fractions,optional,delta"`
	RTSite      *string  `parquet:"rt_site,optional"`
	ECOG        *int8    `parquet:"ecog,optional"`
	HLALOH      *bool    `parquet:"hla_loh,optional"`
}

func TestReadsOtherEncodings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spark.parquet")
	str := func(s string) *string { return &s }
	var rows []sparkStyleRow
	for i := 0; i < 3000; i++ {
		r := sparkStyleRow{PatientID: "S" + string(rune('A'+i%26)) + itoa(i), ICIClass: str(ICIClassLevels[i%4])}
		if i%3 != 0 {
			d := []float64{24, 50, 45}[i%3]
			r.RTDoseGy, r.RTFractions, r.RTSite = &d, []int32{3, 4, 15}[i%3], str("bone")
		}
		if i%5 != 0 {
			e := int8(i % 3)
			r.ECOG = &e
		}
		if i%7 != 0 {
			b := i%2 == 0
			r.HLALOH = &b
		}
		rows = append(rows, r)
	}
	writeRows(t, path, rows, parquet.DataPageVersion(2), parquet.PageBufferSize(256))

	got, err := ReadCohort(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(rows) {
		t.Fatalf("read %d rows, want %d", len(got), len(rows))
	}
	for i, r := range rows {
		g := got[i]
		if g.PatientID != r.PatientID || *g.ICIClass != *r.ICIClass {
			t.Fatalf("row %d: id %q class %q, want %q %q", i+1, g.PatientID, *g.ICIClass, r.PatientID, *r.ICIClass)
		}
		if (r.RTFractions == 0) != (g.RTFractions == nil) || (r.RTFractions != 0 && (*g.RTFractions != int(r.RTFractions) || *g.RTDoseGy != *r.RTDoseGy)) {
			t.Fatalf("row %d: RT %v/%v, want %v/%v", i+1, g.RTDoseGy, g.RTFractions, r.RTDoseGy, r.RTFractions)
		}
		if (r.ECOG == nil) != (g.ECOG == nil) || (r.ECOG != nil && *g.ECOG != int(*r.ECOG)) {
			t.Fatalf("row %d: ecog %v, want %v", i+1, g.ECOG, r.ECOG)
		}
		if (r.HLALOH == nil) != (g.HLALOH == nil) || (r.HLALOH != nil && *g.HLALOH != *r.HLALOH) {
			t.Fatalf("row %d: hla_loh %v, want %v", i+1, g.HLALOH, r.HLALOH)
		}
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

// TestRefusesTextNotUTF8: a string column holding another encoding's bytes
// (Latin-1 "José", as a writer handed a Windows export may store it) is
// refused naming its row and column, plain or dictionary encoded, where
// read on it would have put text DuckDB refuses into every output that
// carries the id.
func TestRefusesTextNotUTF8(t *testing.T) {
	type row struct {
		PatientID string `parquet:"patient_id"`
		ICIClass  string `parquet:"ici_class,dict"`
	}
	for _, tc := range []struct {
		name   string
		rows   []row
		column string
	}{
		{"plain id", []row{{"p1", "pd1"}, {"p2", "pd1"}, {"Jos\xe9", "pd1"}, {"p4", "pd1"}}, "patient_id"},
		{"dictionary level", []row{{"p1", "pd1"}, {"p2", "pd\xb91"}}, "ici_class"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "latin1.parquet")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			w := parquet.NewGenericWriter[row](f)
			if _, err := w.Write(tc.rows); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			f.Close()
			wantRow := int64(len(tc.rows))
			if tc.column == "patient_id" {
				wantRow = 3
			}
			_, err = ReadCohort(context.Background(), path)
			var re *RowError
			if !errors.As(err, &re) || re.Row != wantRow || re.Field != tc.column || re.Reason != ReasonType || !errors.Is(err, ErrInvalidValue) {
				t.Fatalf("err = %v; want a RowError at row %d, column %s", err, wantRow, tc.column)
			}
			if !strings.Contains(err.Error(), "allowed: UTF-8 text") {
				t.Errorf("err = %v; want it to say what is allowed", err)
			}
		})
	}
}
