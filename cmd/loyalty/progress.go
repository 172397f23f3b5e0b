package main

import (
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress counts a long run's rows on a terminal, and is silent when stderr is piped or a
// file: a log has no use for a redrawn bar.
type progress struct{ bar *progressbar.ProgressBar }

// progress starts a bar of n steps, described by what; on a terminal only, and only for runs
// long enough to want one. n < 0 is a count not known in advance.
func (a *app) progress(n int, what string) progress {
	if !a.drawable || (n >= 0 && n < 5) {
		return progress{}
	}
	return progress{progressbar.NewOptions(n,
		progressbar.OptionSetWriter(a.err),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionThrottle(100*time.Millisecond), // a redraw a row would cost more than the row
	)}
}

func (p progress) step() {
	if p.bar != nil {
		_ = p.bar.Add(1)
	}
}

func (p progress) done() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
