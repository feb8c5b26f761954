package inbox

import (
	"strconv"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/recipient"
)

// R6: the E.164 fast path of canonicalAddress gives what parsing would:
// numbers it takes as they are parse to themselves or do not parse (and
// then keep their form), in every region's numbering plan tried here.
func TestCanonicalAddressFastPath_R6(t *testing.T) {
	numbers := []string{"+33612345678", "+12015550123", "+447911123456", "+4915123456789", "+85212345678",
		"+5511912345678", "+390612345678", "+393471234567", "+78123456789", "+74951234567", "+78001234567",
		"+61412345678", "+819012345678", "+8613812345678", "+27821234567", "+971501234567", "+35312345678",
		"+3612345678", "+36201234567", "+5215512345678", "+541112345678", "+33700000000", "+9999999999", "+80012345678"}
	for _, region := range []string{"", "FR", "US", "IT", "RU", "HU", "AR", "MX"} {
		parse := func(s string) (string, error) { return recipient.ParsePhone(s, region) }
		for _, n := range numbers {
			slow := n
			if e, err := parse(n); err == nil {
				slow = e
			}
			if got := canonicalAddress(channel.SMS, n, parse); got != slow {
				t.Errorf("region %q: %s canonical %s, parsing gives %s", region, n, got, slow)
			}
			if isE164(n) && slow != n {
				t.Errorf("region %q: %s is taken as E.164 but parses to %s", region, n, slow)
			}
		}
	}
	for in, want := range map[string]string{
		"whatsapp:+33612345678": "+33612345678", "0612345678": "0612345678", "06 12 34 56 78": "0612345678",
		"+33 6 12 34 56 78": "+33612345678", "33612345678": "+33612345678", "hello": "hello", "  ": "", "+": "+",
		"06\x0012": "0612", "\xff06": "\uFFFD06",
	} {
		if got := canonicalAddress(channel.SMS, in, parseInternational); got != want {
			t.Errorf("canonicalAddress(SMS, %q) = %q, want %q", in, got, want)
		}
	}
	if got := canonicalAddress(channel.Email, " Ana@Example.FR\x00 ", parseInternational); got != "ana@example.fr" {
		t.Errorf("email: %q", got)
	}
	if k := storableKey(strings.Repeat("é", 400)); len(k) > maxKeyBytes || !strings.HasPrefix(k, strings.Repeat("é", 100)) || k != storableKey(k) {
		t.Errorf("storableKey of 800 bytes = %q", k)
	}
}

// R6: isE164 knows the country calling codes libphonenumber knows: for
// every code of one to three digits and every digit after it, it takes a
// number as E.164 exactly when the code is the first prefix of it that
// phonenumbers names a region (or a non-geographic entity) for and the
// national number does not start with 0.
func TestIsE164CallingCodes_R6(t *testing.T) {
	want := func(s string) bool {
		for n := 1; n <= 3; n++ {
			cc, _ := strconv.Atoi(s[1 : 1+n])
			if phonenumbers.GetRegionCodeForCountryCode(cc) != phonenumbers.UNKNOWN_REGION {
				return s[1+n] != '0'
			}
		}
		return false
	}
	known := 0
	for cc := 1; cc < 1000; cc++ {
		for next := '0'; next <= '9'; next++ {
			s := "+" + strconv.Itoa(cc) + string(next) + "1234567"[:7-len(strconv.Itoa(cc))+1]
			if got := isE164(s); got != want(s) {
				t.Fatalf("isE164(%q) = %v, want %v", s, got, want(s))
			}
			if got := isE164(s); got {
				known++
			}
		}
	}
	if known < 1000 {
		t.Fatalf("only %d of the numbers tried are taken as E.164", known)
	}
}
