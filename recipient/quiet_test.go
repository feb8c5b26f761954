package recipient

import (
	"errors"
	"testing"
	"time"
	_ "time/tzdata" // the DST tests must not depend on the machine's zone files
)

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("LoadLocation(%q): %v", name, err)
	}
	return loc
}

// R8: marketing held to the next allowed time, transactional never held,
// right across daylight-saving changes.
func TestQuietHoursAllowed_R8(t *testing.T) {
	paris := mustLoad(t, "Europe/Paris")
	ny := mustLoad(t, "America/New_York")
	night := QuietHours{Start: Clock{21, 0}, End: Clock{8, 0}}
	lunch := QuietHours{Start: Clock{12, 0}, End: Clock{14, 0}}
	utc := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, time.UTC) }

	tests := []struct {
		name    string
		q       QuietHours
		due     time.Time
		loc     *time.Location
		purpose Purpose
		want    time.Time
	}{
		{"daytime marketing goes at once", night, time.Date(2026, 6, 15, 10, 0, 0, 0, paris), paris, Marketing, time.Date(2026, 6, 15, 10, 0, 0, 0, paris)},
		{"evening marketing held to next morning", night, time.Date(2026, 6, 15, 22, 30, 0, 0, paris), paris, Marketing, time.Date(2026, 6, 16, 8, 0, 0, 0, paris)},
		{"early-morning marketing held to the same morning", night, time.Date(2026, 6, 15, 5, 0, 0, 0, paris), paris, Marketing, time.Date(2026, 6, 15, 8, 0, 0, 0, paris)},
		{"start of quiet hours is quiet", night, time.Date(2026, 6, 15, 21, 0, 0, 0, paris), paris, Marketing, time.Date(2026, 6, 16, 8, 0, 0, 0, paris)},
		{"end of quiet hours is allowed", night, time.Date(2026, 6, 15, 8, 0, 0, 0, paris), paris, Marketing, time.Date(2026, 6, 15, 8, 0, 0, 0, paris)},
		{"a second before the end is quiet", night, time.Date(2026, 6, 15, 7, 59, 59, 0, paris), paris, Marketing, time.Date(2026, 6, 15, 8, 0, 0, 0, paris)},
		{"transactional never held", night, time.Date(2026, 6, 15, 23, 0, 0, 0, paris), paris, Transactional, time.Date(2026, 6, 15, 23, 0, 0, 0, paris)},
		{"window inside one day", lunch, time.Date(2026, 6, 15, 13, 0, 0, 0, ny), ny, Marketing, time.Date(2026, 6, 15, 14, 0, 0, 0, ny)},
		{"outside a window inside one day", lunch, time.Date(2026, 6, 15, 20, 0, 0, 0, ny), ny, Marketing, time.Date(2026, 6, 15, 20, 0, 0, 0, ny)},
		{"judged in the recipient's zone, not the due's", night, utc(2026, 6, 15, 3, 0), ny, Marketing, time.Date(2026, 6, 15, 8, 0, 0, 0, ny)},
		{"nil location is UTC", night, utc(2026, 6, 15, 23, 0), nil, Marketing, utc(2026, 6, 16, 8, 0)},
		{"zero quiet hours hold nothing", QuietHours{}, utc(2026, 6, 15, 23, 0), paris, Marketing, utc(2026, 6, 15, 23, 0)},

		// Europe/Paris: 2026-03-29 02:00 CET → 03:00 CEST; 2026-10-25 03:00 CEST → 02:00 CET.
		{"Paris spring forward: night an hour shorter, still ends 08:00 CEST", night, time.Date(2026, 3, 28, 23, 0, 0, 0, paris), paris, Marketing, utc(2026, 3, 29, 6, 0)},
		{"Paris fall back: night an hour longer, still ends 08:00 CET", night, time.Date(2026, 10, 24, 23, 0, 0, 0, paris), paris, Marketing, utc(2026, 10, 25, 7, 0)},
		{"Paris end inside the skipped hour: released at the change", QuietHours{Start: Clock{1, 0}, End: Clock{2, 30}}, utc(2026, 3, 29, 0, 15), paris, Marketing, utc(2026, 3, 29, 1, 0)},
		{"Paris end inside the repeated hour: first occurrence", QuietHours{Start: Clock{1, 0}, End: Clock{2, 30}}, utc(2026, 10, 24, 23, 30), paris, Marketing, utc(2026, 10, 25, 0, 30)},
		{"Paris due in the repeated hour, after the first 02:30", QuietHours{Start: Clock{2, 0}, End: Clock{2, 45}}, utc(2026, 10, 25, 1, 10), paris, Marketing, utc(2026, 10, 25, 1, 45)},

		// America/New_York: 2026-03-08 02:00 EST → 03:00 EDT; 2026-11-01 02:00 EDT → 01:00 EST.
		{"New York spring forward", night, time.Date(2026, 3, 7, 22, 0, 0, 0, ny), ny, Marketing, utc(2026, 3, 8, 12, 0)},
		{"New York fall back", night, time.Date(2026, 10, 31, 22, 0, 0, 0, ny), ny, Marketing, utc(2026, 11, 1, 13, 0)},
		{"New York end inside the skipped hour", QuietHours{Start: Clock{0, 0}, End: Clock{2, 30}}, utc(2026, 3, 8, 6, 0), ny, Marketing, utc(2026, 3, 8, 7, 0)},
		{"New York end inside the repeated hour: first occurrence", QuietHours{Start: Clock{0, 0}, End: Clock{1, 30}}, utc(2026, 11, 1, 4, 45), ny, Marketing, utc(2026, 11, 1, 5, 30)},
		{"New York due after the first 01:30: the second", QuietHours{Start: Clock{0, 0}, End: Clock{1, 30}}, utc(2026, 11, 1, 6, 15), ny, Marketing, utc(2026, 11, 1, 6, 30)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.q.Allowed(tt.due, tt.loc, tt.purpose)
			if !got.Equal(tt.want) {
				t.Errorf("Allowed(%v) = %v (%v UTC), want %v (%v UTC)", tt.due, got, got.UTC(), tt.want, tt.want.UTC())
			}
			if got.Before(tt.due) {
				t.Errorf("Allowed(%v) = %v is before the due time", tt.due, got)
			}
		})
	}
}

// R8: the contact's time zone, else the venue's.
func TestRulesSendTime_R8(t *testing.T) {
	paris := mustLoad(t, "Europe/Paris")
	rules := newTestRules(t, Options{QuietHours: QuietHours{Start: Clock{21, 0}, End: Clock{8, 0}}, Venue: paris})
	due := time.Date(2026, 6, 15, 4, 0, 0, 0, time.UTC) // 06:00 in Paris, 00:00 in New York

	inParis := Contact{ID: "a"}
	if got, want := rules.SendTime(due, inParis, Marketing), time.Date(2026, 6, 15, 8, 0, 0, 0, paris); !got.Equal(want) {
		t.Errorf("venue zone: %v, want %v", got, want)
	}
	inNY := Contact{ID: "b", TimeZone: "America/New_York"}
	ny := mustLoad(t, "America/New_York")
	if got, want := rules.SendTime(due, inNY, Marketing), time.Date(2026, 6, 15, 8, 0, 0, 0, ny); !got.Equal(want) {
		t.Errorf("contact zone: %v, want %v", got, want)
	}
	if got := rules.SendTime(due, inNY, Transactional); !got.Equal(due) {
		t.Errorf("transactional held to %v", got)
	}
	unknown := Contact{ID: "c", TimeZone: "Mars/Olympus"}
	if got, want := rules.SendTime(due, unknown, Marketing), time.Date(2026, 6, 15, 8, 0, 0, 0, paris); !got.Equal(want) {
		t.Errorf("unknown zone falls back to the venue: %v, want %v", got, want)
	}
}

func TestParseClock(t *testing.T) {
	c, err := ParseClock("21:05")
	if err != nil || c != (Clock{21, 5}) || c.String() != "21:05" {
		t.Errorf("ParseClock(21:05) = %v, %v", c, err)
	}
	for _, s := range []string{"", "24:00", "9pm", "12:60"} {
		if _, err := ParseClock(s); !errors.Is(err, ErrInvalidQuietHours) {
			t.Errorf("ParseClock(%q) error %v, want ErrInvalidQuietHours", s, err)
		}
	}
}
