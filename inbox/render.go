package inbox

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/sms"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/recipient"
	ptemplate "github.com/parleyhq/parley/template"
)

// sources are where the template values of one send come from, found once
// per send (C5). A scope is declared, and its variables pass preflight,
// only when it has a source here.
type sources struct {
	subject  Subject
	shared   ptemplate.Values // the account, the author agent, the event or audience of the thread
	values   ptemplate.Values // the draft's own
	perRcpt  map[string]ptemplate.Values
	balance  bool            // the template uses Contact.Balance: look it up in the details when no attribute has it
	fields   map[string]bool // the contact fields the template uses; nil: every one
	sorted   []string        // the keys of fields, sorted
	declared []ptemplate.Scope
}

// sources finds the template sources of a send from thread th: the
// event or audience (already read for the recipients, nil otherwise), the
// author agent, the account, the draft's values, and the scopes the host's
// TemplateData declares.
func (in *Inbox) sources(ctx context.Context, th Thread, ev *EventInfo, aud *AudienceInfo, author Author, d *Draft) (*sources, error) {
	src := &sources{subject: th.Subject, shared: ptemplate.Values{}, declared: []ptemplate.Scope{ptemplate.ScopeContact}}
	if in.account != nil {
		src.shared[ptemplate.ScopeAccount] = in.account
		src.declared = append(src.declared, ptemplate.ScopeAccount)
	}
	if ad, ok := in.dir.(AgentDirectory); ok && author.Agent != "" {
		a, err := ad.Agent(ctx, author.Agent)
		switch {
		case err == nil:
			src.shared[ptemplate.ScopeAgent] = agentValues(a)
			src.declared = append(src.declared, ptemplate.ScopeAgent)
		case !errors.Is(err, ErrNotFound):
			return nil, fmt.Errorf("inbox: agent %s: %w", author.Agent, err)
		}
	}
	if ev != nil {
		src.shared[ptemplate.ScopeEvent] = eventValues(*ev)
		src.declared = append(src.declared, ptemplate.ScopeEvent)
	}
	if aud != nil {
		src.shared[ptemplate.ScopeAudience] = nonBlank(map[string]any{"Name": aud.Name, "MemberCount": len(aud.Members)})
		src.declared = append(src.declared, ptemplate.ScopeAudience)
	}
	src.declared = append(src.declared, in.templateScopes...)
	if d != nil {
		src.values, src.perRcpt = d.Values, d.RecipientValues
		for s := range d.Values {
			src.declared = append(src.declared, s)
		}
		for _, v := range d.RecipientValues {
			for s := range v {
				src.declared = append(src.declared, s)
			}
		}
		src.declared = append(src.declared, d.Scopes...)
		src.setUses(d.Template, d.WhatsApp)
	}
	slices.Sort(src.declared)
	src.declared = slices.Compact(src.declared)
	return src, nil
}

// setUses records what of the contact scope a template uses: its
// recipients' values are built with those fields only.
func (src *sources) setUses(t *ptemplate.Template, w *ptemplate.WhatsAppTemplate) {
	var paths []string
	if t != nil {
		paths = t.Variables()
	}
	if w != nil {
		for _, p := range w.Params {
			paths = append(paths, "."+strings.TrimPrefix(p, "."))
		}
	}
	src.fields = map[string]bool{}
	for _, p := range paths {
		if p == ".Contact" {
			src.fields = nil // the whole scope
			break
		}
		if rest, ok := strings.CutPrefix(p, ".Contact."); ok {
			field, _, _ := strings.Cut(rest, ".")
			src.fields[field] = true
		}
	}
	src.balance = src.fields == nil || src.fields["Balance"]
	src.sorted = nil
	for f := range src.fields {
		src.sorted = append(src.sorted, f)
	}
	slices.Sort(src.sorted)
}

// values are one recipient's template values (C5), looked up in order:
// the draft's values for that recipient, the draft's values, the host's
// Options.TemplateData, then the inbox's own: the contact, and the account,
// agent, event and audience of the send.
type values struct {
	src     *sources
	own     ptemplate.Values // this recipient's draft values
	host    ptemplate.Resolver
	contact map[string]any
}

// Resolve implements ptemplate.Resolver.
func (v *values) Resolve(s ptemplate.Scope) (any, bool) {
	if x, ok := v.own[s]; ok {
		return x, true
	}
	if x, ok := v.src.values[s]; ok {
		return x, true
	}
	if v.host != nil {
		if x, ok := v.host.Resolve(s); ok {
			return x, true
		}
	}
	if s == ptemplate.ScopeContact {
		return v.contact, true
	}
	x, ok := v.src.shared[s]
	return x, ok
}

// key returns a key of everything a rendering with v can read, so that
// recipients with equal keys get the same rendering; false when v holds
// values it cannot key (the host's or the draft's own, the whole contact
// scope, values that are not strings).
func (v *values) key() (string, bool) {
	if v.host != nil || v.own != nil || v.src.fields == nil {
		return "", false
	}
	var b strings.Builder
	for _, f := range v.src.sorted {
		if x, ok := v.contact[f]; ok {
			s, ok := x.(string)
			if !ok {
				return "", false
			}
			b.WriteString(s)
		}
		b.WriteByte(0)
	}
	return b.String(), true
}

// resolver returns one recipient's template values (C5).
func (in *Inbox) resolver(ctx context.Context, src *sources, c recipient.Contact) (*values, error) {
	v := &values{src: src, own: src.perRcpt[c.ID], contact: in.contactValues(ctx, src, c)}
	if in.templateData != nil {
		host, err := in.templateData(ctx, c, src.subject)
		if err != nil {
			return nil, fmt.Errorf("inbox: template data of %s: %w", c.ID, err)
		}
		v.host = host
	}
	return v, nil
}

// contactValues are the contact scope (C5): every catalog variable of the
// scope, and the contact's attributes. A blank field is left out, so that
// a template renders it only with a default.
func (in *Inbox) contactValues(ctx context.Context, src *sources, c recipient.Contact) map[string]any {
	all := src.fields == nil
	size := len(src.fields)
	if all {
		size = 8 + len(c.Attributes)
	}
	v := make(map[string]any, size)
	for k, x := range c.Attributes {
		if (all || src.fields[k]) && !strings.HasPrefix(k, "parley.") {
			v[k] = x
		}
	}
	set := func(k, x string) {
		if (all || src.fields[k]) && strings.TrimSpace(x) != "" {
			v[k] = x
		}
	}
	set("ID", c.ID)
	set("FirstName", c.FirstName)
	set("LastName", c.LastName)
	if all || src.fields["FullName"] || src.fields["Name"] {
		name := c.Name()
		set("FullName", name)
		set("Name", name)
	}
	set("Email", c.Email)
	set("Phone", c.Phone)
	if _, ok := v["Balance"]; !ok && src.balance && in.details != nil && !isAddressSubject(Subject{Kind: store.Contact, ID: c.ID}) {
		if det, err := in.details.Details(ctx, Subject{Kind: store.Contact, ID: c.ID}); err == nil && det.Contact != nil && det.Contact.Currency != "" {
			v["Balance"] = money(det.Contact.Balance, det.Contact.Currency)
		}
	}
	return v
}

// money prints an amount in minor units of a currency: "25.00 EUR".
func money(minor int64, currency string) string {
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	return fmt.Sprintf("%s%d.%02d %s", sign, minor/100, minor%100, currency)
}

// eventValues are the event scope (C5), times printed in the event's zone
// as the catalog's examples are ("Mon 17 March, 09:00").
func eventValues(e EventInfo) map[string]any {
	loc := time.UTC
	if e.TimeZone != "" {
		if l, err := time.LoadLocation(e.TimeZone); err == nil {
			loc = l
		}
	}
	when := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		if e.TimeZone != "" {
			t = t.In(loc)
		}
		return t.Format("Mon 2 January, 15:04")
	}
	return nonBlank(map[string]any{"ID": e.ID, "Name": e.Name, "Start": when(e.Start), "End": when(e.End), "Teacher": e.Teacher,
		"Room": e.Room, "Address": e.Address, "OnlineURL": e.OnlineURL})
}

func agentValues(a AgentInfo) map[string]any {
	full := strings.TrimSpace(strings.TrimSpace(a.FirstName) + " " + strings.TrimSpace(a.LastName))
	return nonBlank(map[string]any{"ID": a.ID, "FirstName": a.FirstName, "LastName": a.LastName, "FullName": full, "Signature": a.Signature})
}

// nonBlank drops blank strings: a variable without a value.
func nonBlank(m map[string]any) map[string]any {
	for k, v := range m {
		if s, ok := v.(string); ok && strings.TrimSpace(s) == "" {
			delete(m, k)
		}
	}
	return m
}

// checkWhatsAppScopes reports the parameters of a WhatsApp template whose
// scope the send does not provide, at the position of their placeholder
// (C5, C10).
func (in *Inbox) checkWhatsAppScopes(w *ptemplate.WhatsAppTemplate, declared []ptemplate.Scope) error {
	var ps []ptemplate.Problem
	for i, path := range w.Params {
		path = strings.TrimPrefix(path, ".")
		root, _, _ := strings.Cut(path, ".")
		p := ptemplate.Problem{Field: ptemplate.FieldText, Variable: "." + path}
		p.Line, p.Column = placeholderPosition(w.Body, i+1)
		scope, ok := in.catalog.ScopeOf(root)
		p.Scope = scope
		switch {
		case !ok:
			p.Kind, p.Message = ptemplate.KindUnknownVariable, fmt.Sprintf("unknown variable %s in parameter {{%d}}", p.Variable, i+1)
		case !slices.Contains(declared, scope):
			p.Kind = ptemplate.KindScopeUnavailable
			p.Message = fmt.Sprintf("%s in parameter {{%d}} needs the %s scope, which this context does not provide", p.Variable, i+1, scope)
		default:
			continue
		}
		ps = append(ps, p)
	}
	if len(ps) == 0 {
		return nil
	}
	return &ptemplate.CheckError{Problems: ps}
}

// placeholderPosition returns the 1-based line and column (in characters)
// of the first {{n}} of body, 0, 0 when there is none.
func placeholderPosition(body string, n int) (int, int) {
	i := strings.Index(body, "{{"+strconv.Itoa(n)+"}}")
	if i < 0 {
		return 0, 0
	}
	line := 1 + strings.Count(body[:i], "\n")
	return line, 1 + len([]rune(body[strings.LastIndexByte(body[:i], '\n')+1:i]))
}

// rendered is what one recipient is sent: the rendered content, the
// WhatsApp template's parameters, and its measurement and cost.
type rendered struct {
	subject, text, html string
	params              []string
	sms                 sms.Measurement
	cost                channel.Cost
}

func (r *rendered) smsInfo() store.SMSInfo {
	if r.sms.Units == 0 && r.sms.Segments == 0 {
		return store.SMSInfo{}
	}
	return store.SMSInfo{Encoding: r.sms.Encoding.String(), Segments: r.sms.Segments, Units: r.sms.Units}
}

// formatOf is the template format of a channel kind.
func formatOf(kind channel.Kind) ptemplate.Format {
	switch kind {
	case channel.Email:
		return ptemplate.FormatEmail
	case channel.Airbnb:
		return ptemplate.FormatAirbnb
	}
	return ptemplate.FormatText
}

// content is the message a draft or a stored message sends, before it is
// rendered for a recipient.
type content struct {
	kind    channel.Kind
	tpl     *ptemplate.Template
	wa      *ptemplate.WhatsAppTemplate
	subject string
	text    string
	html    string
}

func (c *content) templated() bool { return c.tpl != nil || c.wa != nil }

// uses reports whether the template uses a variable under one of roots
// ("Event").
func (c *content) uses(roots ...string) bool {
	var paths []string
	if c.tpl != nil {
		paths = c.tpl.Variables()
	}
	if c.wa != nil {
		for _, p := range c.wa.Params {
			paths = append(paths, "."+strings.TrimPrefix(p, "."))
		}
	}
	for _, p := range paths {
		root, _, _ := strings.Cut(strings.TrimPrefix(p, "."), ".")
		if slices.Contains(roots, root) {
			return true
		}
	}
	return false
}

// render renders c for one recipient with the values of src.
func (in *Inbox) render(ctx context.Context, c *content, src *sources, rc recipient.Contact) (rendered, error) {
	if !c.templated() {
		return rendered{subject: c.subject, text: c.text, html: c.html}, nil
	}
	data, err := in.resolver(ctx, src, rc)
	if err != nil {
		return rendered{}, err
	}
	out, err := in.renderWith(ctx, c, data)
	if err != nil {
		return rendered{}, c.renderError(rc.ID, err)
	}
	return out, nil
}

// renderError names the template and the recipient of a rendering error.
func (c *content) renderError(contactID string, err error) error {
	if c.wa != nil {
		return fmt.Errorf("inbox: render whatsapp template %s for %s: %w", c.wa.Name, contactID, err)
	}
	return fmt.Errorf("inbox: render %s for %s: %w", c.tpl.Name(), contactID, err)
}

// renderWith renders a template message with data.
func (in *Inbox) renderWith(ctx context.Context, c *content, data ptemplate.Resolver) (rendered, error) {
	var out rendered
	if c.wa != nil {
		params, err := c.wa.Render(in.catalog, data)
		if err != nil {
			return out, err
		}
		out.params, out.text = params, c.wa.Text(params)
		return out, nil
	}
	o, err := c.tpl.Render(ctx, formatOf(c.kind), data)
	if errors.Is(err, ptemplate.ErrTimeBudget) {
		// a budget is wall-clock time: a render descheduled on a busy
		// machine gets a second chance before it is judged
		o, err = c.tpl.Render(ctx, formatOf(c.kind), data)
	}
	if err != nil {
		return out, err
	}
	out.subject, out.text, out.html = o.Subject, o.Text, o.HTML
	return out, nil
}

// measure fills the SMS measurement (C6) and cost estimate (C13) of what
// r is sent to address.
func (in *Inbox) measure(r *rendered, kind channel.Kind, address string, lastWhatsApp time.Time, wa *ptemplate.WhatsAppTemplate) {
	if kind == channel.SMS || kind == channel.MMS {
		r.sms = sms.Measure(r.text)
	}
	if in.prices != nil {
		open := kind == channel.WhatsApp && in.rules.WhatsAppWindowOpen(lastWhatsApp, in.now())
		r.cost = in.prices.estimate(kind, address, r.sms.Segments, open, wa)
	}
}

// renderAll renders c for every target, in parallel when there are many;
// errs[i] is target i's failure. Recipients whose values are equal (the
// same first name, when that is all the template reads) share one
// rendering and its measurement.
func (in *Inbox) renderAll(ctx context.Context, c *content, src *sources, targets []target) []error {
	errs := make([]error, len(targets))
	type result struct {
		r   rendered
		err error
	}
	// a worker's cache: dropped when it serves too few recipients (an
	// audience whose every member renders differently)
	type cache struct {
		m          map[string]*result
		hits, seen int
	}
	one := func(i int, ch *cache) {
		t := &targets[i]
		data, err := in.resolver(ctx, src, *t.contact)
		if err != nil {
			errs[i] = err
			return
		}
		var key string
		keyed := ch.m != nil
		if keyed {
			key, keyed = data.key()
		}
		var res *result
		if keyed {
			ch.seen++
			if res = ch.m[key]; res != nil {
				ch.hits++
			}
		}
		if res == nil {
			res = &result{}
			res.r, res.err = in.renderWith(ctx, c, data)
			if res.err == nil && (c.kind == channel.SMS || c.kind == channel.MMS) {
				res.r.sms = sms.Measure(res.r.text)
			}
			if keyed {
				ch.m[key] = res
			}
		}
		if ch.seen == 1024 && ch.hits < ch.seen/8 {
			ch.m = nil
		}
		if res.err != nil {
			errs[i] = c.renderError(t.contact.ID, res.err)
			return
		}
		t.out = res.r
		if in.prices != nil {
			open := c.kind == channel.WhatsApp && in.rules.WhatsAppWindowOpen(lastWA(*t.contact), in.now())
			t.out.cost = in.prices.estimate(c.kind, t.address, t.out.sms.Segments, open, c.wa)
		}
	}
	if !c.templated() {
		// one text for everyone: measured once, priced per address
		for i := range targets {
			targets[i].out = rendered{subject: c.subject, text: c.text, html: c.html}
		}
		if len(targets) > 0 {
			m := targets[0].out
			in.measure(&m, c.kind, targets[0].address, lastWA(*targets[0].contact), nil)
			for i := range targets {
				targets[i].out.sms = m.sms
				if in.prices != nil {
					open := c.kind == channel.WhatsApp && in.rules.WhatsAppWindowOpen(lastWA(*targets[i].contact), in.now())
					targets[i].out.cost = in.prices.estimate(c.kind, targets[i].address, m.sms.Segments, open, nil)
				}
			}
		}
		return errs
	}
	workers := max(1, min(runtime.GOMAXPROCS(0), (len(targets)+255)/256))
	chunk := (len(targets) + workers - 1) / workers
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			ch := &cache{m: map[string]*result{}}
			for i := w * chunk; i < min(len(targets), (w+1)*chunk); i++ {
				one(i, ch)
			}
		})
	}
	wg.Wait()
	return errs
}

// labels returns the template values that show every catalog variable by
// its label, "{First name}": how a group message shows in its thread.
func labels(cat *ptemplate.Catalog) ptemplate.Values {
	out := ptemplate.Values{}
	for _, v := range cat.Variables() {
		elems := strings.Split(v.Path, ".")
		m, _ := out[v.Scope].(map[string]any)
		if m == nil {
			m = map[string]any{}
			out[v.Scope] = m
		}
		for _, e := range elems[1 : len(elems)-1] {
			next, ok := m[e].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[e] = next
			}
			m = next
		}
		m[elems[len(elems)-1]] = "{" + v.Label + "}"
	}
	return out
}

// display returns how a group message written from a template shows in
// its thread: every variable by its label ("Hi {First name}"), else, when
// the template cannot be rendered that way, its source.
func (in *Inbox) display(ctx context.Context, c *content) (subject, text, html string) {
	switch {
	case c.tpl != nil:
		if o, err := c.tpl.Render(ctx, formatOf(c.kind), labels(in.catalog)); err == nil {
			return o.Subject, o.Text, o.HTML
		}
		s := c.tpl.Source()
		return s.Subject, s.Text, s.HTML
	case c.wa != nil:
		params := make([]string, len(c.wa.Params))
		for i, p := range c.wa.Params {
			params[i] = "{" + strings.TrimPrefix(p, ".") + "}"
			if v, ok := in.catalog.Lookup(p); ok {
				params[i] = "{" + v.Label + "}"
			}
		}
		return "", c.wa.Text(params), ""
	}
	return c.subject, c.text, c.html
}
