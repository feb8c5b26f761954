package recipient

import (
	"errors"
	"strings"
	"testing"
)

// R6: phone numbers parsed with libphonenumber rules for a default region,
// stored in E.164.
func TestParsePhone_R6(t *testing.T) {
	tests := []struct {
		name, input, region, want string
	}{
		{"french mobile, national format", "06 12 34 56 78", "FR", "+33612345678"},
		{"french mobile, dots", "06.12.34.56.78", "FR", "+33612345678"},
		{"french landline", "01 23 45 67 89", "FR", "+33123456789"},
		{"french mobile, international", "+33 6 12 34 56 78", "", "+33612345678"},
		{"french mobile, 00 prefix", "0033 6 12 34 56 78", "FR", "+33612345678"},
		{"region is case-insensitive", "06 12 34 56 78", " fr ", "+33612345678"},
		{"us number", "(212) 555-0123", "US", "+12125550123"},
		{"canadian number", "(416) 555-0199", "CA", "+14165550199"},
		{"canadian number read with region US (NANP)", "416 555 0199", "US", "+14165550199"},
		{"north-american number from France", "+1 416 555 0199", "FR", "+14165550199"},
		{"guadeloupe mobile in its own region", "0690 12 34 56", "GP", "+590690123456"},
		{"british mobile", "07911 123456", "GB", "+447911123456"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePhone(tt.input, tt.region)
			if err != nil {
				t.Fatalf("ParsePhone(%q, %q) error %v", tt.input, tt.region, err)
			}
			if got != tt.want {
				t.Errorf("ParsePhone(%q, %q) = %q, want %q", tt.input, tt.region, got, tt.want)
			}
		})
	}
}

// R6: anything that is not a valid number is a typed error, including numbers
// that are only "possible" and numbers valid in another region only.
func TestParsePhone_R6_Invalid(t *testing.T) {
	tests := []struct {
		name, input, region, problem string
		regionErr                    bool
	}{
		{"empty", "  ", "FR", "empty", false},
		{"text", "hello", "FR", "not a phone number", false},
		{"french mobile read as US (valid in FR only)", "0612345678", "US", "possible but not a valid number", false},
		{"us number read as FR (valid in US only)", "212-555-0123", "FR", "too long", false},
		{"DOM mobile read as metropolitan France", "0690 12 34 56", "FR", "possible but not a valid number", false},
		{"national number without a region", "06 12 34 56 78", "", "not a phone number", false},
		{"too short", "06 12 34 56", "FR", "too short", false},
		{"too long", "+33 6 12 34 56 78 90", "", "too long", false},
		{"possible but unassigned US range", "(212) 123-4567", "US", "possible but not a valid number", false},
		{"possible but invalid french", "+33 0 12 34 56 78", "", "possible but not a valid number", false},
		{"unknown country code", "+999 12345678", "", "not a phone number", false},
		{"extension", "06 12 34 56 78 ext 12", "FR", "has an extension", false},
		{"unknown region", "0612345678", "XX", "unknown region", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePhone(tt.input, tt.region)
			if err == nil {
				t.Fatalf("ParsePhone(%q, %q) = %q, want an error", tt.input, tt.region, got)
			}
			if got != "" {
				t.Errorf("ParsePhone returned %q with its error", got)
			}
			var pe *PhoneError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *PhoneError", err)
			}
			if !strings.HasPrefix(pe.Problem, tt.problem) {
				t.Errorf("Problem = %q, want prefix %q", pe.Problem, tt.problem)
			}
			if pe.Input != tt.input {
				t.Errorf("Input = %q, want %q", pe.Input, tt.input)
			}
			if !errors.Is(err, ErrInvalidPhone) || !errors.Is(err, ErrInvalidAddress) {
				t.Errorf("error %v does not match ErrInvalidPhone and ErrInvalidAddress", err)
			}
			if errors.Is(err, ErrInvalidRegion) != tt.regionErr {
				t.Errorf("errors.Is(err, ErrInvalidRegion) = %v, want %v", !tt.regionErr, tt.regionErr)
			}
			if !strings.HasPrefix(err.Error(), "recipient: ") {
				t.Errorf("message %q lacks the package prefix", err)
			}
		})
	}
}

// R6: emails validated as addresses with a domain.
func TestParseEmail_R6(t *testing.T) {
	valid := []struct{ in, want string }{
		{"helene@example.com", "helene@example.com"},
		{"  Helene.Dupont+gym@Example.COM ", "Helene.Dupont+gym@example.com"},
		{"Hélène Dupont <helene@example.fr>", "helene@example.fr"},
		{"a@b.co", "a@b.co"},
	}
	for _, tt := range valid {
		got, err := ParseEmail(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseEmail(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	invalid := []string{
		"", "helene", "helene@", "@example.com", "helene@localhost", "helene@example.",
		"helene@.example.com", "helene@example..com", `"00."@example.com`, ".helene@example.com", "two@at@example.com", "helene @example.com",
		`"quoted local"@example.com`, "helene@[192.0.2.1]", "a, b@example.com",
	}
	for _, in := range invalid {
		got, err := ParseEmail(in)
		if err == nil {
			t.Errorf("ParseEmail(%q) = %q, want an error", in, got)
			continue
		}
		if !errors.Is(err, ErrInvalidEmail) || !errors.Is(err, ErrInvalidAddress) {
			t.Errorf("ParseEmail(%q) error %v does not match ErrInvalidEmail and ErrInvalidAddress", in, err)
		}
	}
}

// R1: what ParsePhone returns passes the cheap E.164 check of Check; other
// text does not.
func TestValidE164(t *testing.T) {
	cc := newCallingCodes()
	for _, s := range []string{"+33612345678", "+12125550123", "+590690123456", "+447911123456"} {
		if !cc.validE164(s) {
			t.Errorf("validE164(%q) = false, want true", s)
		}
	}
	for _, s := range []string{"", "+", "33612345678", "0612345678", "+33 6 12 34 56 78", "+0612345678", "+9991234567", "+1234", "+1234567890123456", "+3361234567x"} {
		if cc.validE164(s) {
			t.Errorf("validE164(%q) = true, want false", s)
		}
	}
}

func FuzzParsePhone(f *testing.F) {
	seeds := []struct{ in, region string }{
		{"06 12 34 56 78", "FR"}, {"+33612345678", ""}, {"(212) 555-0123", "US"}, {"0612345678", "US"},
		{"+1 416 555 0199", "CA"}, {"06 12 34 56 78 ext 12", "FR"}, {"tel:+33-6-12-34-56-78", "FR"},
		{"1-800-FLOWERS", "US"}, {"++++", ""}, {"0690123456", "GP"}, {"", "XX"}, {"\xff06", "FR"},
	}
	for _, s := range seeds {
		f.Add(s.in, s.region)
	}
	cc := newCallingCodes()
	f.Fuzz(func(t *testing.T, input, region string) {
		got, err := ParsePhone(input, region)
		if err != nil {
			var pe *PhoneError
			if !errors.As(err, &pe) || !errors.Is(err, ErrInvalidPhone) {
				t.Fatalf("ParsePhone(%q, %q) error %v is not a *PhoneError matching ErrInvalidPhone", input, region, err)
			}
			if got != "" {
				t.Fatalf("ParsePhone(%q, %q) = %q with an error", input, region, got)
			}
			return
		}
		if !cc.validE164(got) {
			t.Fatalf("ParsePhone(%q, %q) = %q fails the E.164 check", input, region, got)
		}
		again, err := ParsePhone(got, "")
		if err != nil || again != got {
			t.Fatalf("E.164 %q does not parse back to itself: %q, %v", got, again, err)
		}
	})
}

func FuzzParseEmail(f *testing.F) {
	for _, s := range []string{"helene@example.com", "Hélène <h@example.fr>", "a@b", `"x y"@example.com`, "a@[1.2.3.4]", "@", "a@b..c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, input string) {
		got, err := ParseEmail(input)
		if err != nil {
			if !errors.Is(err, ErrInvalidEmail) {
				t.Fatalf("ParseEmail(%q) error %v does not match ErrInvalidEmail", input, err)
			}
			return
		}
		if !validEmail(got) {
			t.Fatalf("ParseEmail(%q) = %q fails the shape check of Check", input, got)
		}
		if again, err := ParseEmail(got); err != nil || again != got {
			t.Fatalf("ParseEmail(%q) = %q, %v; want it unchanged", got, again, err)
		}
	})
}
