package inbox

import (
	"strings"

	"github.com/parleyhq/parley/channel"
	ptemplate "github.com/parleyhq/parley/template"
)

// Prices is a host's price table for cost estimates (C13). Prices are in
// millionths of Currency and keyed by country calling code ("33", "1");
// the key "*" is the price for every other country.
type Prices struct {
	Currency string
	// SMS is the price of one SMS segment (MMS counts one segment).
	SMS map[string]int64
	// WhatsApp is the price of a business-initiated (template) message by
	// template category, then calling code. Replies inside the 24-hour
	// service window are free.
	WhatsApp map[ptemplate.Category]map[string]int64
}

// price looks up the price of an E.164 number in a table keyed by calling
// code: the longest code (1 to 3 digits) that the table has, else "*".
func price(table map[string]int64, e164 string) int64 {
	digits := strings.TrimPrefix(e164, "+")
	for n := min(3, len(digits)); n >= 1; n-- {
		if p, ok := table[digits[:n]]; ok {
			return p
		}
	}
	return table["*"]
}

// estimate returns the estimated cost of one delivery (C13): SMS per
// segment by country; WhatsApp free inside the service window, else by
// template category and country; email, push and Airbnb free.
func (p *Prices) estimate(kind channel.Kind, addr string, segments int, windowOpen bool, wa *ptemplate.WhatsAppTemplate) channel.Cost {
	if p == nil {
		return channel.Cost{}
	}
	c := channel.Cost{Currency: p.Currency}
	switch kind {
	case channel.SMS:
		c.Micros = price(p.SMS, addr) * int64(max(segments, 1))
	case channel.MMS:
		c.Micros = price(p.SMS, addr)
	case channel.WhatsApp:
		if windowOpen && wa == nil {
			return c
		}
		cat := ptemplate.CategoryUtility
		if wa != nil {
			cat = wa.Category
		}
		c.Micros = price(p.WhatsApp[cat], addr)
	}
	return c
}
