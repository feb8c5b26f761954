package inbox

// Uninstrumented strips in of its OpenTelemetry instrumentation — no
// spans, no metrics, no store wrapper — so that benchmarks can measure the
// instrumentation's cost against the code without it, in the same run.
// It is to be called right after New, before in is used.
func Uninstrumented(in *Inbox) {
	in.obs = nil
	in.store = in.base
}
