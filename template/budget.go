package template

import (
	"context"
	"fmt"
	"math"
	"time"
)

// Limit names a bound a render can hit; see [LimitError].
type Limit string

// Limits reported by [LimitError].
const (
	// LimitAlloc: the functions of the render would allocate more than Options.MaxAlloc
	// bytes, all calls counted together.
	LimitAlloc Limit = "MaxAlloc"
	// LimitList: a function would build a list longer than Options.MaxList items.
	LimitList Limit = "MaxList"
	// LimitIterations: the loops of the render would run more than Options.MaxIterations
	// times, all loops counted together.
	LimitIterations Limit = "MaxIterations"
	// LimitDepth: a value printed or walked by a function is nested deeper than
	// [MaxDataDepth] levels.
	LimitDepth Limit = "depth"
	// LimitCycle: a value printed or walked by a function contains itself.
	LimitCycle Limit = "cycle"
	// LimitWork: a call whose work grows faster than its input would exceed [MaxWork]
	// steps (a regular expression's program size times its input length).
	LimitWork Limit = "work"
)

// MaxDataDepth is how deep a value may be nested when a function prints or walks it
// (maps, lists and structs inside each other, counted from the value given to the
// function).
const MaxDataDepth = 64

// MaxWork bounds the work of one call whose work grows faster than its input: a regular
// expression's size (in instructions) times the length of its input, or trimAll's
// non-ASCII cutset length times the length of its input. The time budget is checked
// between calls, so this bounds the time one call can take.
const MaxWork = 1 << 22

// LimitError reports which function or construct hit which limit. A [*RenderError]
// wraps it; [errors.Is] matches [ErrLimit] against it.
type LimitError struct {
	// Func is the function ("printf", "regexReplaceAll") or construct ("range", "print"
	// for a value printed by an action) that hit the limit.
	Func string
	// Limit is the limit hit.
	Limit Limit
	// Want is what the call needed: bytes for LimitAlloc (counted until the limit was
	// exceeded, so at least Left+1), items, iterations or levels for the others.
	Want int64
	// Left is what remained of the limit when the call was refused.
	Left int64
}

// Error implements error: "template: limit exceeded: printf: needs 60000064 bytes, 983040
// left of MaxAlloc".
func (e *LimitError) Error() string {
	switch e.Limit {
	case LimitAlloc:
		return fmt.Sprintf("template: limit exceeded: %s: needs %d bytes, %d left of %s", e.Func, e.Want, e.Left, e.Limit)
	case LimitCycle:
		return fmt.Sprintf("template: limit exceeded: %s: the value contains itself", e.Func)
	case LimitDepth:
		return fmt.Sprintf("template: limit exceeded: %s: the value is nested deeper than %d levels", e.Func, e.Left)
	case LimitWork:
		return fmt.Sprintf("template: limit exceeded: %s: needs %d steps, more than %d", e.Func, e.Want, e.Left)
	}
	return fmt.Sprintf("template: limit exceeded: %s: needs %d, %d left of %s", e.Func, e.Want, e.Left, e.Limit)
}

// Unwrap returns [ErrLimit].
func (e *LimitError) Unwrap() error { return ErrLimit }

// renderState is the bookkeeping of one render, shared by every field it renders: the
// allocation budget, the iteration count, the time budget, the context, and the scratch
// space of the executor.
type renderState struct {
	ctx      context.Context
	now      func() time.Time
	deadline time.Time
	lim      *limits
	root     map[string]any

	alloc int64 // bytes charged by functions
	iter  int   // loop iterations counted
	err   error // first failure, for the HTML executor

	w     limitWriter // the writer of the field being rendered
	stack []any       // function arguments being evaluated
	vars  []any       // the variables of the field being rendered
}

// charge records that fn is about to allocate n bytes, or refuses with a [*LimitError]
// when n exceeds what is left of the budget. The allocator rounds each allocation up to
// its size class, by at most an eighth: n is charged with that eighth.
func (st *renderState) charge(fn string, n int64) error {
	n = addCost(n, n/8)
	if left := st.lim.maxAlloc - st.alloc; n > left || n < 0 {
		if n < 0 {
			n = math.MaxInt64
		}
		return &LimitError{Func: fn, Limit: LimitAlloc, Want: n, Left: left}
	}
	st.alloc += n
	return nil
}

// growth is what building a result by appending costs, per byte of the result: the
// buffer is reallocated as it grows (by a quarter at a time once it is large, so the
// reallocations add up to about 5 times the result), then copied into the string.
const growth = 6

// left returns the bytes left in the budget.
func (st *renderState) left() int64 { return st.lim.maxAlloc - st.alloc }

// iterate counts n loop iterations against the limit before a loop starts.
func (st *renderState) iterate(fn string, n int64) error {
	left := int64(st.lim.maxIter - st.iter)
	if n > left {
		return &LimitError{Func: fn, Limit: LimitIterations, Want: n, Left: left}
	}
	st.iter += int(n)
	return nil
}

// listLen refuses a list of n items longer than MaxList.
func (st *renderState) listLen(fn string, n int64) error {
	if n > int64(st.lim.maxList) || n < 0 {
		return &LimitError{Func: fn, Limit: LimitList, Want: n, Left: int64(st.lim.maxList)}
	}
	return nil
}

func (st *renderState) fail(err error) error {
	if st.err == nil {
		st.err = err
	}
	return st.err
}

// check returns the context's error or [ErrTimeBudget] when the render must stop.
func (st *renderState) check() error {
	if err := st.ctx.Err(); err != nil {
		return err
	}
	if st.now().After(st.deadline) {
		return fmt.Errorf("%w: render took longer than its budget", ErrTimeBudget)
	}
	return nil
}

// Saturating arithmetic for cost estimates: a cost that overflows is refused as
// math.MaxInt64 bytes.

func addCost(a, b int64) int64 {
	if a < 0 || b < 0 || a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func mulCost(a, b int64) int64 {
	if a < 0 || b < 0 {
		return math.MaxInt64
	}
	if a != 0 && b > math.MaxInt64/a {
		return math.MaxInt64
	}
	return a * b
}
