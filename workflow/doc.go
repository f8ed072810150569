// Package workflow holds abscopal's use cases, each written once for every
// caller (the command line, the demo, the API, the benchmarks and the test
// kits): train and publish a model, compare algorithms, evaluate published
// models on a file, reproduce or recalibrate a version, score a file,
// validate a file, plan a validation's sample size, export features, and
// keep the registry honest. Each takes typed options and a
// context.Context, reports long work through a Progress callback, and
// returns typed results; printing them is the caller's.
package workflow

// Progress is called as long work advances: done of total steps, after the
// step named (done 0 and step "" when the first step starts).
type Progress func(done, total int, step string)

// Tracker starts the report of a piece of long work, described by label
// ("training gbm on 800 rows"): Progress is called as it advances, and stop
// once it is over, however it ended.
type Tracker func(label string) (p Progress, stop func())

// start starts label's report; a nil Tracker reports nothing.
func (t Tracker) start(label string) (Progress, func()) {
	if t == nil {
		return nil, func() {}
	}
	return t(label)
}

// Notice receives a remark a caller may show its user: the columns a file
// lacks, say. nil discards them.
type Notice func(msg string)

func (n Notice) say(msg string) {
	if n != nil {
		n(msg)
	}
}
