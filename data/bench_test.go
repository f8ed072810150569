package data_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/data/synth"
	"github.com/abscopal/abscopal/internal/testkit/datatest"
	"github.com/parquet-go/parquet-go"
)

// benchRows is the size of the cohort the streaming benchmarks read.
const benchRows = 1_000_000

var (
	benchOnce sync.Once
	benchPath string
	benchErr  error
)

// TestMain removes the benchmarks' cohorts (218 MB as Parquet and CSV)
// when the run ends.
func TestMain(m *testing.M) {
	code := m.Run()
	if benchPath != "" {
		os.RemoveAll(filepath.Dir(benchPath))
	}
	os.Exit(code)
}

// benchCohort writes the 1,000,000-row synthetic cohort once per process.
func benchCohort(b *testing.B) string {
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "abscopal-bench-")
		if err != nil {
			benchErr = err
			return
		}
		benchPath = filepath.Join(dir, "cohort.parquet")
		benchErr = synth.WriteFile(context.Background(), benchPath, benchRows, 1, data.WriteOptions{})
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchPath
}

// heapPeak samples the live heap; ReadMemStats per batch costs far less than
// decoding the batch.
type heapPeak struct{ base, peak uint64 }

func newHeapPeak() *heapPeak {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return &heapPeak{base: m.HeapAlloc}
}

func (h *heapPeak) sample() {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	if m.HeapAlloc > h.peak {
		h.peak = m.HeapAlloc
	}
}

func (h *heapPeak) report(b *testing.B, path string) {
	st, _ := os.Stat(path)
	b.ReportMetric(float64(h.peak-min(h.base, h.peak))/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(st.Size())/(1<<20), "file-MB")
	b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkStreamCohort reads, validates and converts every row to a Patient,
// keeping none: the memory it needs is one batch.
func BenchmarkStreamCohort(b *testing.B) { streamCohort(b, benchCohort(b)) }

// streamCohort reads the cohort at path through the cohort reader b.N times.
func streamCohort(b *testing.B, path string) {
	ctx := context.Background()
	h := newHeapPeak()
	b.ResetTimer()
	for range b.N {
		r, err := data.OpenCohort(ctx, path, data.CohortOptions{})
		if err != nil {
			b.Fatal(err)
		}
		rows := 0
		for {
			ps, err := r.Next(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			rows += len(ps)
			h.sample()
		}
		r.Close()
		if rows != benchRows {
			b.Fatalf("read %d rows, want %d", rows, benchRows)
		}
	}
	b.StopTimer()
	h.report(b, path)
}

// BenchmarkStreamTable reads every column without validation: the raw
// decoding speed of the table reader.
func BenchmarkStreamTable(b *testing.B) {
	path := benchCohort(b)
	ctx := context.Background()
	h := newHeapPeak()
	b.ResetTimer()
	for range b.N {
		r, err := data.OpenTable(ctx, path, data.TableOptions{})
		if err != nil {
			b.Fatal(err)
		}
		rows := 0
		for {
			bt, err := r.Next(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			rows += bt.Len
			h.sample()
		}
		r.Close()
		if rows != benchRows {
			b.Fatalf("read %d rows, want %d", rows, benchRows)
		}
	}
	b.StopTimer()
	h.report(b, path)
}

// peerRow is the struct parquet-go's GenericReader fills: the peer for the
// benchmarks above, reading the same file with no validation.
type peerRow struct {
	PatientID            string   `parquet:"patient_id"`
	MHC1Status           *string  `parquet:"mhc1_status"`
	HLALOH               *bool    `parquet:"hla_loh"`
	IFNPathwayDefect     *bool    `parquet:"ifn_pathway_defect"`
	PDL1TPS              *float64 `parquet:"pdl1_tps"`
	TMB                  *float64 `parquet:"tmb"`
	ALC                  *float64 `parquet:"alc"`
	ALCNadir             *float64 `parquet:"alc_nadir"`
	ANC                  *float64 `parquet:"anc"`
	Albumin              *float64 `parquet:"albumin"`
	RTDoseGy             *float64 `parquet:"rt_dose_gy"`
	RTFractions          *int64   `parquet:"rt_fractions"`
	RTSite               *string  `parquet:"rt_site"`
	RTNodal              *bool    `parquet:"rt_nodal"`
	RTICISequence        *string  `parquet:"rt_ici_sequence"`
	MeanLungDoseGy       *float64 `parquet:"mean_lung_dose_gy"`
	MeanHeartDoseGy      *float64 `parquet:"mean_heart_dose_gy"`
	MeanBodyDoseGy       *float64 `parquet:"mean_body_dose_gy"`
	ICIClass             *string  `parquet:"ici_class"`
	Age                  *float64 `parquet:"age"`
	Sex                  *string  `parquet:"sex"`
	ECOG                 *int64   `parquet:"ecog"`
	Stage                *string  `parquet:"stage"`
	Histology            *string  `parquet:"histology"`
	EGFRMutant           *bool    `parquet:"egfr_mutant"`
	PriorSystemicTherapy *bool    `parquet:"prior_systemic_therapy"`
	AbscopalResponse     *bool    `parquet:"abscopal_response"`
	ObjectiveResponse    *bool    `parquet:"objective_response"`
	PFSMonths            *float64 `parquet:"pfs_months"`
	PFSEvent             *bool    `parquet:"pfs_event"`
	OSMonths             *float64 `parquet:"os_months"`
	OSEvent              *bool    `parquet:"os_event"`
	PneumonitisGrade     *int64   `parquet:"pneumonitis_grade"`
	TruePAbscopal        *float64 `parquet:"true_p_abscopal"`
	TruePResponse        *float64 `parquet:"true_p_response"`
}

// BenchmarkStreamPeerGenericReader is the peer: parquet-go's GenericReader
// decoding the same file into structs, 8,192 rows at a time.
func BenchmarkStreamPeerGenericReader(b *testing.B) {
	path := benchCohort(b)
	h := newHeapPeak()
	buf := make([]peerRow, data.DefaultBatchSize)
	b.ResetTimer()
	for range b.N {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		r := parquet.NewGenericReader[peerRow](f)
		rows := 0
		for {
			n, err := r.Read(buf)
			rows += n
			h.sample()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		r.Close()
		f.Close()
		if rows != benchRows {
			b.Fatalf("read %d rows, want %d", rows, benchRows)
		}
	}
	b.StopTimer()
	h.report(b, path)
}

var (
	benchCSVOnce sync.Once
	benchCSVPath string
)

// benchCohortCSV writes the benchmark cohort again as CSV, once per process.
func benchCohortCSV(b *testing.B) string {
	src := benchCohort(b)
	benchCSVOnce.Do(func() {
		benchCSVPath = datatest.Copy(b, src, filepath.Join(filepath.Dir(src), "cohort.csv"))
	})
	if benchCSVPath == "" {
		b.Fatal("the CSV cohort could not be written")
	}
	return benchCSVPath
}

// BenchmarkStreamCohortCSV is BenchmarkStreamCohort on the same cohort as
// CSV: the first pass that types the columns, then the parse of every field
// against the schema.
func BenchmarkStreamCohortCSV(b *testing.B) { streamCohort(b, benchCohortCSV(b)) }

// BenchmarkStreamPeerEncodingCSV is the CSV reading's peer: encoding/csv
// splitting the same file into fields, once, with no typing or validation
// (the CSV reader above reads it twice).
func BenchmarkStreamPeerEncodingCSV(b *testing.B) {
	path := benchCohortCSV(b)
	h := newHeapPeak()
	b.ResetTimer()
	for range b.N {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		r := csv.NewReader(bufio.NewReaderSize(f, 1<<16))
		r.ReuseRecord = true
		rows := -1 // the header
		for {
			_, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			rows++
			if rows%data.DefaultBatchSize == 0 {
				h.sample()
			}
		}
		f.Close()
		if rows != benchRows {
			b.Fatalf("read %d rows, want %d", rows, benchRows)
		}
	}
	b.StopTimer()
	h.report(b, path)
}

// BenchmarkWriteTable writes 200,000 rows of a score file's shape (an id,
// a probability, the model and its version, a count, a reason mostly
// null) through the TableWriter.
func BenchmarkWriteTable(b *testing.B) {
	const rows = 200_000
	specs := []data.ColumnSpec{
		{Name: "patient_id", Kind: data.KindString, Distinct: true}, {Name: "probability", Kind: data.KindFloat, Optional: true},
		{Name: "model", Kind: data.KindString}, {Name: "version", Kind: data.KindString},
		{Name: "imputed", Kind: data.KindInt}, {Name: "reason", Kind: data.KindString, Optional: true},
	}
	ids := make([]string, rows)
	for i := range ids {
		ids[i] = "P" + strconv.Itoa(i)
	}
	path := filepath.Join(b.TempDir(), "scores.parquet")
	vals := make([]data.Value, len(specs))
	b.ResetTimer()
	for range b.N {
		w, err := data.CreateTable(path, specs, data.WriteOptions{})
		if err != nil {
			b.Fatal(err)
		}
		for i, id := range ids {
			vals[0], vals[1], vals[2], vals[3], vals[4] = data.String(id), data.Float(float64(i%1000)/1000), data.String("gbm"), data.String("v1"), data.Float(float64(i%3))
			vals[5] = data.Null
			if i%50 == 0 {
				vals[1], vals[5] = data.Null, data.String("no radiotherapy")
			}
			if err := w.WriteRow(vals); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
