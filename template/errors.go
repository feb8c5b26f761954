package template

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Errors returned by this package wrap one of them; match with [errors.Is].
var (
	// ErrInvalid reports malformed input: a bad option, scope, variable or WhatsApp template.
	ErrInvalid = errors.New("template: invalid")
	// ErrDuplicate reports a scope, variable or WhatsApp template that already exists.
	ErrDuplicate = errors.New("template: duplicate")
	// ErrUnknownScope reports a scope that is not in the catalog.
	ErrUnknownScope = errors.New("template: unknown scope")
	// ErrSyntax reports a template that does not parse (or uses a forbidden construct).
	ErrSyntax = errors.New("template: syntax error")
	// ErrUnknownVariable reports a variable that is not in the catalog.
	ErrUnknownVariable = errors.New("template: unknown variable")
	// ErrScopeUnavailable reports a variable whose scope the send context does not provide
	// (SPEC C5).
	ErrScopeUnavailable = errors.New("template: scope unavailable")
	// ErrMissingValue reports a variable that has no value at render time and no default.
	ErrMissingValue = errors.New("template: missing value")
	// ErrOutputTooLarge reports a render whose output exceeds Options.MaxOutput.
	ErrOutputTooLarge = errors.New("template: output too large")
	// ErrLimit reports a render that would exceed a limit: the allocation budget, the loop
	// iterations, a list's length, the depth of a value or a value that contains itself,
	// the work of one call. A [*LimitError] in the chain says which function hit which.
	ErrLimit = errors.New("template: limit exceeded")
	// ErrTimeBudget reports a render that ran past Options.Timeout.
	ErrTimeBudget = errors.New("template: time budget exceeded")
	// ErrRender reports any other failure while executing a template (a function error,
	// a value of the wrong type).
	ErrRender = errors.New("template: render failed")
)

// Field names a part of a template.
type Field string

// Fields of a template.
const (
	FieldSubject Field = "subject"
	FieldText    Field = "text"
	FieldHTML    Field = "html"
)

// ProblemKind classifies a [Problem].
type ProblemKind string

// Kinds of problems found by checks.
const (
	// KindSyntax: the field does not parse or uses a forbidden construct.
	KindSyntax ProblemKind = "syntax"
	// KindUnknownVariable: the variable is not in the catalog.
	KindUnknownVariable ProblemKind = "unknown_variable"
	// KindScopeUnavailable: the variable's scope is not provided by the send context.
	KindScopeUnavailable ProblemKind = "scope_unavailable"
	// KindInvalid: a WhatsApp template breaks a local rule (parameters, length, name …).
	KindInvalid ProblemKind = "invalid"
	// KindDuplicate: a WhatsApp template duplicates an existing one.
	KindDuplicate ProblemKind = "duplicate"
)

// Problem is one finding of a check: where it is and what is wrong. It is an error whose
// Unwrap returns the sentinel of its kind ([ErrSyntax], [ErrUnknownVariable],
// [ErrScopeUnavailable], [ErrInvalid], [ErrDuplicate]).
type Problem struct {
	Field Field
	// Line and Column are 1-based; Column counts characters. For syntax errors the column
	// is best effort (Go's parser reports lines only).
	Line, Column int
	Kind         ProblemKind
	// Variable is the variable as written, with its leading dot (".GiftCard.Value"), when
	// the problem concerns one.
	Variable string
	// Scope is the scope of Variable when known.
	Scope Scope
	// Message says what is wrong, in English.
	Message string
}

// Error implements error: "template: text:3:14: scope unavailable: .GiftCard.Value …".
func (p Problem) Error() string {
	return fmt.Sprintf("template: %s:%d:%d: %s", p.Field, p.Line, p.Column, p.Message)
}

// Unwrap returns the sentinel error of the problem's kind.
func (p Problem) Unwrap() error {
	switch p.Kind {
	case KindSyntax:
		return ErrSyntax
	case KindUnknownVariable:
		return ErrUnknownVariable
	case KindScopeUnavailable:
		return ErrScopeUnavailable
	case KindDuplicate:
		return ErrDuplicate
	default:
		return ErrInvalid
	}
}

// CheckError lists every problem found by a check, in field then position order. Get it
// with [errors.As]; [errors.Is] matches the sentinel of any of its problems.
type CheckError struct {
	Problems []Problem
}

// Error implements error, listing every problem on its own line.
func (e *CheckError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "template: %d problem(s)", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n\t")
		b.WriteString(p.Error())
	}
	return b.String()
}

// Unwrap returns the problems as errors.
func (e *CheckError) Unwrap() []error {
	errs := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		errs[i] = p
	}
	return errs
}

// RenderError reports a render failure in one field, with the variable concerned when
// known. Err is one of the sentinels ([ErrMissingValue], [ErrOutputTooLarge], [ErrLimit],
// [ErrTimeBudget], [ErrRender]) possibly wrapping the underlying cause.
type RenderError struct {
	Field Field
	// Variable is the variable as written (".Contact.FirstName"), when known.
	Variable string
	// Line and Column locate the failing action when known (1-based; 0 when unknown).
	Line, Column int
	Err          error
}

// Error implements error.
func (e *RenderError) Error() string {
	var b strings.Builder
	b.WriteString("template: render ")
	b.WriteString(string(e.Field))
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	if e.Variable != "" {
		b.WriteString(" ")
		b.WriteString(e.Variable)
	}
	b.WriteString(": ")
	b.WriteString(strings.TrimPrefix(e.Err.Error(), "template: "))
	return b.String()
}

// Unwrap returns Err.
func (e *RenderError) Unwrap() error { return e.Err }
