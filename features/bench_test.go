package features_test

import (
	"sync"
	"testing"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/data/synth"
	"github.com/abscopal/abscopal/features"
)

const benchRecords = 1_000_000

var (
	benchOnce sync.Once
	benchPats []data.Patient
	benchPipe *features.Pipeline
)

func benchSetup(b *testing.B) ([]data.Patient, *features.Pipeline) {
	benchOnce.Do(func() {
		benchPats = synth.Generate(benchRecords, 1)
		var err error
		benchPipe, err = features.Fit(features.BuiltinSpec("abscopal_response"), patientRecords(benchPats[:20000]))
		if err != nil {
			panic(err)
		}
	})
	return benchPats, benchPipe
}

// BenchmarkTransformBatch runs 1,000,000 patients through the pipeline, as
// training does: one op is the whole cohort.
func BenchmarkTransformBatch(b *testing.B) {
	ps, p := benchSetup(b)
	row := make([]float64, p.NumOutputs())
	var notes features.Notes
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for i := range ps {
			notes.Reset()
			p.Transform(features.PatientRecord{P: &ps[i]}, row, &notes)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchRecords, "ns/record")
}

// BenchmarkTransformOne is the serving path: one patient, notes reused.
func BenchmarkTransformOne(b *testing.B) {
	ps, p := benchSetup(b)
	row := make([]float64, p.NumOutputs())
	var notes features.Notes
	rec := features.PatientRecord{P: &ps[7]}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		notes.Reset()
		p.Transform(rec, row, &notes)
	}
}
