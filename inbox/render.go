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
	account  map[string]any // Options.Account
	agent    map[string]any // the author agent, from an AgentDirectory
	event    map[string]any // an event thread's event
	audience map[string]any // an audience thread's audience
	values   ptemplate.Values
	perRcpt  map[string]ptemplate.Values
	balance  bool // the template uses Contact.Balance: look it up in the details when no attribute has it
	declared []ptemplate.Scope
}

// sources finds the template sources of a send from thread th: the
// event or audience (already read for the recipients, nil otherwise), the
// author agent, the account, the draft's values, and the scopes the host's
// TemplateData declares.
func (in *Inbox) sources(ctx context.Context, th Thread, ev *EventInfo, aud *AudienceInfo, author Author, d *Draft) (*sources, error) {
	src := &sources{subject: th.Subject, declared: []ptemplate.Scope{ptemplate.ScopeContact}}
	if in.account != nil {
		src.account = in.account
		src.declared = append(src.declared, ptemplate.ScopeAccount)
	}
	if ad, ok := in.dir.(AgentDirectory); ok && author.Agent != "" {
		a, err := ad.Agent(ctx, author.Agent)
		switch {
		case err == nil:
			src.agent = agentValues(a)
			src.declared = append(src.declared, ptemplate.ScopeAgent)
		case !errors.Is(err, ErrNotFound):
			return nil, fmt.Errorf("inbox: agent %s: %w", author.Agent, err)
		}
	}
	if ev != nil {
		src.event = eventValues(*ev)
		src.declared = append(src.declared, ptemplate.ScopeEvent)
	}
	if aud != nil {
		src.audience = nonBlank(map[string]any{"Name": aud.Name, "MemberCount": len(aud.Members)})
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
		src.balance = usesBalance(d.Template, d.WhatsApp)
	}
	slices.Sort(src.declared)
	src.declared = slices.Compact(src.declared)
	return src, nil
}

// layered resolves a scope from the first resolver that has it.
type layered []ptemplate.Resolver

func (l layered) Resolve(s ptemplate.Scope) (any, bool) {
	for _, r := range l {
		if r == nil {
			continue
		}
		if v, ok := r.Resolve(s); ok {
			return v, true
		}
	}
	return nil, false
}

// resolver returns one recipient's template values (C5): the draft's values
// for that recipient, then the draft's values, then the host's
// Options.TemplateData, then the inbox's own: the contact, and the account,
// agent, event and audience of the send.
func (in *Inbox) resolver(ctx context.Context, src *sources, c recipient.Contact) (ptemplate.Resolver, error) {
	own := ptemplate.Values{ptemplate.ScopeContact: in.contactValues(ctx, src, c)}
	for s, v := range map[ptemplate.Scope]map[string]any{ptemplate.ScopeAccount: src.account, ptemplate.ScopeAgent: src.agent,
		ptemplate.ScopeEvent: src.event, ptemplate.ScopeAudience: src.audience} {
		if v != nil {
			own[s] = v
		}
	}
	l := layered{src.perRcpt[c.ID], src.values}
	if in.templateData != nil {
		host, err := in.templateData(ctx, c, src.subject)
		if err != nil {
			return nil, fmt.Errorf("inbox: template data of %s: %w", c.ID, err)
		}
		l = append(l, host)
	}
	return append(l, own), nil
}

// contactValues are the contact scope (C5): every catalog variable of the
// scope, and the contact's attributes. A blank field is left out, so that
// a template renders it only with a default.
func (in *Inbox) contactValues(ctx context.Context, src *sources, c recipient.Contact) map[string]any {
	v := make(map[string]any, 8+len(c.Attributes))
	for k, x := range c.Attributes {
		if !strings.HasPrefix(k, "parley.") {
			v[k] = x
		}
	}
	for k, x := range map[string]string{"ID": c.ID, "FirstName": c.FirstName, "LastName": c.LastName, "FullName": c.Name(),
		"Name": c.Name(), "Email": c.Email, "Phone": c.Phone} {
		if strings.TrimSpace(x) != "" {
			v[k] = x
		}
	}
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

// render renders c for one recipient with the values of src.
func (in *Inbox) render(ctx context.Context, c *content, src *sources, rc recipient.Contact) (rendered, error) {
	var out rendered
	switch {
	case c.tpl != nil:
		data, err := in.resolver(ctx, src, rc)
		if err != nil {
			return out, err
		}
		o, err := c.tpl.Render(ctx, formatOf(c.kind), data)
		if err != nil {
			return out, fmt.Errorf("inbox: render %s for %s: %w", c.tpl.Name(), rc.ID, err)
		}
		out.subject, out.text, out.html = o.Subject, o.Text, o.HTML
	case c.wa != nil:
		data, err := in.resolver(ctx, src, rc)
		if err != nil {
			return out, err
		}
		if out.params, err = c.wa.Render(in.catalog, data); err != nil {
			return out, fmt.Errorf("inbox: render whatsapp template %s for %s: %w", c.wa.Name, rc.ID, err)
		}
		out.text = c.wa.Text(out.params)
	default:
		out.subject, out.text, out.html = c.subject, c.text, c.html
	}
	return out, nil
}

// measure fills the SMS measurement (C6) and cost estimate (C13) of what
// r is sent to address.
func (in *Inbox) measure(r *rendered, kind channel.Kind, address string, lastWhatsApp time.Time, wa *ptemplate.WhatsAppTemplate) {
	if kind == channel.SMS || kind == channel.MMS {
		r.sms = sms.Measure(r.text)
	}
	if in.prices != nil {
		open := kind == channel.WhatsApp && in.rules.WhatsAppWindowOpen(lastWhatsApp)
		r.cost = in.prices.estimate(kind, address, r.sms.Segments, open, wa)
	}
}

// renderAll renders c for every target, in parallel when there are many;
// errs[i] is target i's failure.
func (in *Inbox) renderAll(ctx context.Context, c *content, src *sources, targets []target) []error {
	errs := make([]error, len(targets))
	one := func(i int) {
		t := &targets[i]
		r, err := in.render(ctx, c, src, t.contact)
		if err != nil {
			errs[i] = err
			return
		}
		in.measure(&r, c.kind, t.address, lastWA(t.contact), c.wa)
		t.out = r
	}
	if !c.templated() {
		// one text for everyone: measured once, priced per address
		for i := range targets {
			targets[i].out = rendered{subject: c.subject, text: c.text, html: c.html}
		}
		if len(targets) > 0 {
			m := targets[0].out
			in.measure(&m, c.kind, targets[0].address, lastWA(targets[0].contact), nil)
			for i := range targets {
				targets[i].out.sms = m.sms
				if in.prices != nil {
					open := c.kind == channel.WhatsApp && in.rules.WhatsAppWindowOpen(lastWA(targets[i].contact))
					targets[i].out.cost = in.prices.estimate(c.kind, targets[i].address, m.sms.Segments, open, nil)
				}
			}
		}
		return errs
	}
	workers := min(runtime.GOMAXPROCS(0), (len(targets)+255)/256)
	if workers <= 1 {
		for i := range targets {
			one(i)
		}
		return errs
	}
	var wg sync.WaitGroup
	chunk := (len(targets) + workers - 1) / workers
	for w := range workers {
		wg.Go(func() {
			for i := w * chunk; i < min(len(targets), (w+1)*chunk); i++ {
				one(i)
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
