package template

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Category is the category of a WhatsApp template (SPEC C10); it decides its price.
type Category string

// WhatsApp template categories.
const (
	CategoryUtility        Category = "utility"
	CategoryMarketing      Category = "marketing"
	CategoryAuthentication Category = "authentication"
)

// ApprovalState is where a WhatsApp template stands in the provider's review.
type ApprovalState string

// Approval states. A rejected template carries the provider's reason. The
// provider pauses an approved template whose quality dropped and disables
// one paused repeatedly; neither can be sent until approved again.
const (
	ApprovalPending  ApprovalState = "pending"
	ApprovalApproved ApprovalState = "approved"
	ApprovalRejected ApprovalState = "rejected"
	ApprovalPaused   ApprovalState = "paused"
	ApprovalDisabled ApprovalState = "disabled"
)

// WhatsAppBodyLimit is the maximum length of a WhatsApp template body, in characters.
const WhatsAppBodyLimit = 1024

// WhatsAppTemplate is a WhatsApp message template (SPEC C10). Its body uses positional
// parameters {{1}} … {{n}}; Params maps each to a catalog variable: Params[0] is the path
// ("Contact.FirstName") whose value fills {{1}}.
type WhatsAppTemplate struct {
	Name     string
	Language string // "en", "fr", "en_US" …
	Category Category
	State    ApprovalState // empty means not submitted yet
	// RejectionReason is the provider's reason when State is ApprovalRejected.
	RejectionReason string
	Body            string
	Params          []string
}

// Approved reports whether the template may be sent outside the 24-hour window.
func (w *WhatsAppTemplate) Approved() bool { return w.State == ApprovalApproved }

var (
	waPlaceholderRE = regexp.MustCompile(`\{\{([^{}]*)\}\}`)
	waNameRE        = regexp.MustCompile(`^[a-z0-9_]{1,512}$`)
	waLanguageRE    = regexp.MustCompile(`^[a-z]{2,3}(_[A-Z]{2})?$`)
)

// Validate runs the checks that can be made before submitting the template to WhatsApp
// (SPEC C10): name, language, category and state are well formed; the body is not blank,
// within [WhatsAppBodyLimit] characters and does not start or end with a parameter; its
// parameters are exactly {{1}} … {{n}} with none missing, each mapped to a variable
// of cat and none mapped in excess; and no template of existing has the same name and
// language or the same body in the same language. It returns nil or a [*CheckError]
// listing every problem (field [FieldText] for the body) with kinds [KindInvalid],
// [KindUnknownVariable] and [KindDuplicate].
func (w *WhatsAppTemplate) Validate(cat *Catalog, existing ...WhatsAppTemplate) error {
	var ps []Problem
	add := func(kind ProblemKind, pos int, variable, format string, args ...any) {
		line, col := position(w.Body, pos)
		ps = append(ps, Problem{Field: FieldText, Line: line, Column: col, Kind: kind, Variable: variable, Message: fmt.Sprintf(format, args...)})
	}
	if !waNameRE.MatchString(w.Name) {
		add(KindInvalid, 0, "", "name %q must be 1 to 512 lowercase letters, digits or underscores", w.Name)
	}
	if !waLanguageRE.MatchString(w.Language) {
		add(KindInvalid, 0, "", "language %q must be a code such as en or en_US", w.Language)
	}
	switch w.Category {
	case CategoryUtility, CategoryMarketing, CategoryAuthentication:
	default:
		add(KindInvalid, 0, "", "category %q must be utility, marketing or authentication", w.Category)
	}
	switch w.State {
	case "", ApprovalPending, ApprovalApproved, ApprovalRejected, ApprovalPaused, ApprovalDisabled:
	default:
		add(KindInvalid, 0, "", "approval state %q must be pending, approved, rejected, paused or disabled", w.State)
	}
	body := strings.TrimSpace(w.Body)
	if body == "" {
		add(KindInvalid, 0, "", "the body is blank")
	}
	if n := utf8.RuneCountInString(w.Body); n > WhatsAppBodyLimit {
		add(KindInvalid, 0, "", "the body is %d characters long, more than WhatsApp's limit of %d", n, WhatsAppBodyLimit)
	}
	first := map[int]int{} // parameter number → byte offset of its first use
	maxN := 0
	for _, m := range waPlaceholderRE.FindAllStringSubmatchIndex(w.Body, -1) {
		inner := w.Body[m[2]:m[3]]
		n, err := strconv.Atoi(inner)
		if err != nil || n < 1 || strconv.Itoa(n) != inner {
			add(KindInvalid, m[0], "", "parameter {{%s}} must be a number from 1, written {{1}}", inner)
			continue
		}
		if _, ok := first[n]; !ok {
			first[n] = m[0]
		}
		maxN = max(maxN, n)
	}
	if body != "" && (strings.HasPrefix(body, "{{") || strings.HasSuffix(body, "}}")) {
		add(KindInvalid, 0, "", "the body must not start or end with a parameter")
	}
	for n := 1; n <= maxN; n++ {
		pos, used := first[n]
		if !used {
			add(KindInvalid, first[nextUsed(first, n)], "", "parameter {{%d}} is missing: parameters must run from {{1}} without gaps", n)
			continue
		}
		if n > len(w.Params) || strings.TrimSpace(w.Params[n-1]) == "" {
			add(KindInvalid, pos, "", "parameter {{%d}} is not mapped to a variable", n)
			continue
		}
		if cat != nil && !cat.known(strings.TrimPrefix(w.Params[n-1], ".")) {
			add(KindUnknownVariable, pos, "."+strings.TrimPrefix(w.Params[n-1], "."), "parameter {{%d}} is mapped to an unknown variable", n)
		}
	}
	for i := maxN; i < len(w.Params); i++ {
		add(KindInvalid, 0, "", "variable %q is mapped to {{%d}}, which the body does not use", w.Params[i], i+1)
	}
	norm := normalizeWABody(w.Body)
	for _, e := range existing {
		if e.Language != w.Language {
			continue
		}
		if e.Name == w.Name {
			add(KindDuplicate, 0, "", "a template named %q already exists in %s", w.Name, w.Language)
		} else if norm != "" && normalizeWABody(e.Body) == norm {
			add(KindDuplicate, 0, "", "template %q already has this body in %s", e.Name, w.Language)
		}
	}
	if len(ps) == 0 {
		return nil
	}
	return &CheckError{Problems: ps}
}

func nextUsed(first map[int]int, n int) int {
	keys := make([]int, 0, len(first))
	for k := range first {
		if k > n {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return n
	}
	return slices.Min(keys)
}

// normalizeWABody makes two bodies that differ only in spacing, case or parameter
// numbers compare equal.
func normalizeWABody(s string) string {
	s = waPlaceholderRE.ReplaceAllString(s, "{{}}")
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

// Render returns the ordered parameter values a provider adapter sends with the template:
// element i fills {{i+1}}. Each value comes from the scope of its variable in data,
// printed with fmt and cleaned for WhatsApp (line breaks and tabs become spaces, runs of
// spaces one space). A variable whose scope is not provided, or whose value is missing or
// blank, fails with a [*RenderError] wrapping [ErrMissingValue].
func (w *WhatsAppTemplate) Render(cat *Catalog, data Resolver) ([]string, error) {
	if cat == nil {
		return nil, fmt.Errorf("template: whatsapp %q: %w: nil catalog", w.Name, ErrInvalid)
	}
	out := make([]string, len(w.Params))
	for i, path := range w.Params {
		path = strings.TrimPrefix(path, ".")
		missing := &RenderError{Field: FieldText, Variable: "." + path, Err: fmt.Errorf("%w: parameter {{%d}}", ErrMissingValue, i+1)}
		elems := strings.Split(path, ".")
		scope, ok := cat.ScopeOf(elems[0])
		if !ok {
			return nil, &RenderError{Field: FieldText, Variable: "." + path, Err: fmt.Errorf("%w: parameter {{%d}}", ErrUnknownVariable, i+1)}
		}
		var v any
		if data != nil {
			v, ok = data.Resolve(scope)
		}
		if !ok {
			return nil, missing
		}
		if v = lookup(v, elems[1:]...); v == nil {
			return nil, missing
		}
		s := strings.Join(strings.Fields(fmt.Sprint(v)), " ")
		if s == "" {
			return nil, missing
		}
		out[i] = s
	}
	return out, nil
}

// Text returns the body with {{n}} replaced by params[n-1], as the recipient will read
// it. Placeholders without a value are left as they are.
func (w *WhatsAppTemplate) Text(params []string) string {
	return waPlaceholderRE.ReplaceAllStringFunc(w.Body, func(p string) string {
		n, err := strconv.Atoi(p[2 : len(p)-2])
		if err != nil || n < 1 || n > len(params) {
			return p
		}
		return params[n-1]
	})
}

// Preview returns the body filled with the catalog's example values (SPEC C4).
func (w *WhatsAppTemplate) Preview(cat *Catalog) (string, error) {
	if cat == nil {
		return "", fmt.Errorf("template: whatsapp %q: %w: nil catalog", w.Name, ErrInvalid)
	}
	params, err := w.Render(cat, cat.Examples())
	if err != nil {
		return "", err
	}
	return w.Text(params), nil
}
