package template

import (
	"context"
	"errors"
	"fmt"
)

// Resolver supplies the values of the scopes a send context provides, for one recipient.
// A scope's value may be a map with string keys (map[string]any, map[string]string …) or
// a struct (or pointer to one) whose exported fields and methods without arguments are
// the variables. Resolve returns ok == false when the context does not provide the scope.
//
// Templates can read every exported field and call every exported method without
// arguments of the values they are given, and never change them. Resolve and those
// methods are host code that the render's limits do not bound: give templates plain
// data.
type Resolver interface {
	Resolve(s Scope) (value any, ok bool)
}

// Values is a [Resolver] backed by a map from scope to value.
type Values map[Scope]any

// Resolve implements [Resolver].
func (v Values) Resolve(s Scope) (any, bool) {
	x, ok := v[s]
	return x, ok
}

// Format is the shape of a rendered message, chosen by channel.
type Format string

// Formats.
const (
	// FormatText is plain text for SMS, MMS, WhatsApp free text and push: Subject (when the
	// template has one; push uses it) and Text. Text is derived from the HTML body when
	// the template has no text body.
	FormatText Format = "text"
	// FormatEmail gives Subject, Text and HTML. Text is derived from the HTML body when the
	// template has no text body.
	FormatEmail Format = "email"
	// FormatAirbnb is plain text for OTA messaging (SPEC C11): the HTML body converted to
	// text with links kept readable, or the text body when there is no HTML body. No
	// subject.
	FormatAirbnb Format = "airbnb"
)

// Output is a rendered message.
type Output struct {
	Subject string
	Text    string
	HTML    string
	// Alloc is the bytes the render's function calls were charged against
	// Options.MaxAlloc, and Iterations the loop iterations it counted against
	// Options.MaxIterations: what the render used of its budgets.
	Alloc      int
	Iterations int
}

// Render renders the template for one recipient in format f, with the scope values data
// supplies. A variable without a value fails with a [*RenderError] wrapping
// [ErrMissingValue] and naming it, unless the template gives a default
// (`{{ .Contact.Nickname | default "there" }}`). Exceeding a limit fails with
// [ErrOutputTooLarge], [ErrLimit] (a [*LimitError] naming the function) or
// [ErrTimeBudget]; a cancelled ctx returns ctx.Err(). Values are data: text that looks
// like template code in a value is printed as it is. Render never changes data.
func (t *Template) Render(ctx context.Context, f Format, data Resolver) (*Output, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f != FormatText && f != FormatEmail && f != FormatAirbnb {
		return nil, fmt.Errorf("template: render %q: %w: unknown format %q", t.name, ErrInvalid, f)
	}
	root := make(map[string]any, len(t.roots))
	if data != nil {
		for _, r := range t.roots {
			if v, ok := data.Resolve(r.scope); ok {
				root[r.root] = v
			}
		}
	}
	st := &renderState{ctx: ctx, now: t.lim.now, deadline: t.lim.now().Add(t.lim.timeout), lim: &t.lim, root: root}
	subject, text, html := t.fields[0], t.fields[1], t.fields[2]
	out := &Output{}
	var err error
	if subject != nil && f != FormatAirbnb {
		if out.Subject, err = t.exec(subject, st); err != nil {
			return nil, err
		}
	}
	if html != nil && (f == FormatEmail || f == FormatAirbnb || text == nil) {
		if out.HTML, err = t.exec(html, st); err != nil {
			return nil, err
		}
	}
	switch {
	case text != nil && (f != FormatAirbnb || html == nil):
		if out.Text, err = t.exec(text, st); err != nil {
			return nil, err
		}
	case html != nil:
		if out.Text, err = HTMLToText(out.HTML); err != nil {
			return nil, err
		}
	}
	if f != FormatEmail {
		out.HTML = ""
	}
	out.Alloc, out.Iterations = int(st.alloc), st.iter
	return out, nil
}

// Preview renders the template with the catalog's example values, so a composer can show
// the full message before any recipient exists (SPEC C4).
func (t *Template) Preview(ctx context.Context, f Format) (*Output, error) {
	return t.Render(ctx, f, t.cat.Examples())
}

// exec renders one field.
func (t *Template) exec(f *field, st *renderState) (string, error) {
	st.w = limitWriter{max: t.lim.maxOutput, next: checkEvery, st: st}
	st.w.buf.Grow(min(len(f.src)+len(f.src)/2, t.lim.maxOutput))
	st.err = nil
	var err error
	if f.prog != nil {
		err = st.run(f.prog)
	} else {
		err = f.html.execute(st)
	}
	if err == nil {
		return st.w.buf.String(), nil
	}
	if ctxErr := st.ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
		return "", ctxErr
	}
	rerr := &RenderError{Field: f.name, Err: err}
	var xe *execError
	if errors.As(err, &xe) {
		rerr.Err, rerr.Variable = xe.err, xe.variable
		rerr.Line, rerr.Column = position(f.src, xe.pos)
	}
	if !isOwnError(rerr.Err) {
		rerr.Err = fmt.Errorf("%w: %w", ErrRender, rerr.Err)
	}
	return "", rerr
}

// isOwnError reports whether err wraps one of the sentinels a RenderError carries.
func isOwnError(err error) bool {
	for _, s := range [...]error{ErrMissingValue, ErrOutputTooLarge, ErrLimit, ErrTimeBudget, ErrRender} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

func isContextError(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
