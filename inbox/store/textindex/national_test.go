package textindex

import (
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/nyaruka/phonenumbers"

	"github.com/parleyhq/parley/internal/fold"
)

// libraryNational is what nationalDigits stands for.
func libraryNational(num *phonenumbers.PhoneNumber) string {
	return fold.Digits(phonenumbers.Format(num, phonenumbers.NATIONAL))
}

// numberOf returns the phone number of country code cc and national
// significant number nsn, as phonenumbers.Parse makes it.
func numberOf(cc int, nsn string) *phonenumbers.PhoneNumber {
	national, err := strconv.ParseUint(nsn, 10, 64)
	if err != nil {
		return nil
	}
	cc32 := int32(cc)
	num := &phonenumbers.PhoneNumber{CountryCode: &cc32, NationalNumber: &national}
	if zeros := int32(len(nsn) - len(strings.TrimLeft(nsn, "0"))); zeros > 0 && national != 0 {
		lead := true
		num.ItalianLeadingZero, num.NumberOfLeadingZeros = &lead, &zeros
	}
	return num
}

// sampleNumbers returns, by country code, national significant numbers of
// every region and non-geographical entity: the library's example numbers
// of every type, and from each, numbers that keep its first digits and
// draw the others at random, one or two digits shorter or longer too.
func sampleNumbers(perExample int) map[int][]string {
	rng := rand.New(rand.NewPCG(18, 22))
	out := map[int][]string{}
	add := func(num *phonenumbers.PhoneNumber) {
		if num == nil {
			return
		}
		cc, nsn := int(num.GetCountryCode()), phonenumbers.GetNationalSignificantNumber(num)
		out[cc] = append(out[cc], nsn)
		for range perExample {
			keep := rng.IntN(len(nsn) + 1)
			n := max(1, len(nsn)+rng.IntN(5)-2)
			b := []byte(nsn[:min(keep, n)])
			for len(b) < n {
				b = append(b, byte('0'+rng.IntN(10)))
			}
			out[cc] = append(out[cc], string(b))
		}
	}
	types := []phonenumbers.PhoneNumberType{phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.TOLL_FREE,
		phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST, phonenumbers.VOIP, phonenumbers.PERSONAL_NUMBER,
		phonenumbers.PAGER, phonenumbers.UAN, phonenumbers.VOICEMAIL}
	regions := make([]string, 0, len(phonenumbers.GetSupportedRegions()))
	for r := range phonenumbers.GetSupportedRegions() {
		regions = append(regions, r)
	}
	sort.Strings(regions) // the same numbers every run
	for _, r := range regions {
		for _, t := range types {
			add(phonenumbers.GetExampleNumberForType(r, t))
		}
	}
	var nonGeo []int
	for cc := range phonenumbers.GetSupportedGlobalNetworkCallingCodes() {
		nonGeo = append(nonGeo, cc)
	}
	slices.Sort(nonGeo)
	for _, cc := range nonGeo {
		add(phonenumbers.GetExampleNumberForNonGeoEntity(cc))
	}
	return out
}

// T13: the fast national format gives the digits phonenumbers.Format
// gives, byte for byte, for the example numbers of every region and
// variations of them; and it serves, without phonenumbers, most of them,
// French and North American numbers (the benchmark's) among them.
func TestNationalDigitsMatchesPhonenumbers_T13(t *testing.T) {
	per := 60
	if testing.Short() {
		per = 10
	}
	total, fast := 0, 0
	for cc, nsns := range sampleNumbers(per) {
		for _, nsn := range nsns {
			num := numberOf(cc, nsn)
			if num == nil {
				continue
			}
			nsn := phonenumbers.GetNationalSignificantNumber(num)
			want := libraryNational(num)
			if got := nationalDigits(num, cc, nsn); got != want {
				t.Fatalf("+%d %s: national digits %q, phonenumbers gives %q", cc, nsn, got, want)
			}
			total++
			if f := formatsFor(cc); f != nil {
				if _, ok := f.digits(nsn); ok {
					fast++
				}
			}
		}
	}
	t.Logf("%d numbers, %d (%.1f %%) by the fast path", total, fast, 100*float64(fast)/float64(total))
	if fast < total*3/4 {
		t.Errorf("the fast path served %d numbers of %d", fast, total)
	}
	for _, n := range []struct {
		cc  int
		nsn string
	}{{33, "612345678"}, {33, "199999999"}, {1, "2015550123"}, {1, "9995559999"}, {44, "7400123456"}} {
		f := formatsFor(n.cc)
		if f == nil {
			t.Fatalf("+%d: no fast path", n.cc)
		}
		got, ok := f.digits(n.nsn)
		if want := libraryNational(numberOf(n.cc, n.nsn)); !ok || got != want {
			t.Errorf("+%d %s: fast path %q, %v; phonenumbers %q", n.cc, n.nsn, got, ok, want)
		}
	}
}

// T13: PhoneForms gives what it gave when phonenumbers gave the national
// significant number and formatted every number, for E.164 numbers of
// every region and for other strings.
func TestPhoneFormsMatchesLibrary_T13(t *testing.T) {
	inputs := []string{"", "+", "abc", "+33612345678", "+33 6 12 34 56 78", "0612345678", "+1 201-555-0123 ext. 42",
		"+390612345678", "+3900000000", "+80012345678", "+8821234567", "+999123456789"}
	for cc, nsns := range sampleNumbers(5) {
		for _, nsn := range nsns {
			inputs = append(inputs, "+"+strconv.Itoa(cc)+nsn)
		}
	}
	for _, in := range inputs {
		if got, want := PhoneForms(in), libraryPhoneForms(in); !slices.Equal(got, want) {
			t.Errorf("PhoneForms(%q) = %q, phonenumbers alone %q", in, got, want)
		}
	}
}

// libraryPhoneForms is PhoneForms as it was: phonenumbers gave the
// national significant number and formatted every number.
func libraryPhoneForms(e164 string) []string {
	digits := fold.Digits(e164)
	if digits == "" {
		return nil
	}
	forms := []string{capWord(digits)}
	num, _ := e164Number(e164, digits) // the number alone, as it was built
	if num == nil {
		if len(digits) > MaxWordBytes {
			return forms
		}
		var err error
		if num, err = phonenumbers.Parse(e164, ""); err != nil {
			return forms
		}
	}
	forms = appendUnique(forms, capWord(phonenumbers.GetNationalSignificantNumber(num)))
	forms = appendUnique(forms, capWord(fold.Digits(phonenumbers.Format(num, phonenumbers.NATIONAL))))
	return slices.DeleteFunc(forms, func(f string) bool { return f == "" })
}

// T13: PhoneForms is safe for concurrent use, the first analysis of a country
// code's formats included (run with -race).
func TestPhoneFormsConcurrent(t *testing.T) {
	nums := []string{"+33612345678", "+12015550123", "+447400123456", "+4915123456789", "+819012345678", "+5511961234567",
		"+34612345678", "+390612345678", "+61412345678", "+27821234567"}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				in := nums[(g+i)%len(nums)]
				if got, want := PhoneForms(in), libraryPhoneForms(in); !slices.Equal(got, want) {
					t.Errorf("PhoneForms(%q) = %q, want %q", in, got, want)
				}
			}
		})
	}
	wg.Wait()
}

// FuzzNationalDigits compares the fast national format with
// phonenumbers.Format for any country code and digits.
func FuzzNationalDigits(f *testing.F) {
	f.Add(33, "612345678")
	f.Add(1, "2015550123")
	f.Add(44, "2071234567")
	f.Add(39, "0612345678")
	f.Add(49, "15123456789")
	f.Add(7, "9123456789")
	f.Add(55, "11961234567")
	f.Add(800, "12345678")
	f.Add(86, "13123456789")
	f.Add(91, "9123456789")
	f.Fuzz(func(t *testing.T, cc int, digits string) {
		if cc < 1 || cc > 999 || len(digits) == 0 || len(digits) > 17 || fold.Digits(digits) != digits {
			return
		}
		num := numberOf(cc, digits)
		if num == nil {
			return
		}
		nsn := phonenumbers.GetNationalSignificantNumber(num)
		if got, want := nationalDigits(num, cc, nsn), libraryNational(num); got != want {
			t.Fatalf("+%d %s: national digits %q, phonenumbers gives %q", cc, nsn, got, want)
		}
	})
}

// BenchmarkPhoneFormsVsLibrary: PhoneForms of French and North American numbers,
// beside (library) the same with phonenumbers formatting every number.
func BenchmarkPhoneFormsVsLibrary(b *testing.B) {
	nums := []string{"+33612345678", "+33798765432", "+12015550123", "+14155550199", "+33187654321"}
	for _, c := range []struct {
		name  string
		forms func(string) []string
	}{{"fast", PhoneForms}, {"library", libraryPhoneForms}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				c.forms(nums[i%len(nums)])
			}
		})
	}
}
