package recipient

import (
	"fmt"
	"time"
)

// Clock is a wall-clock time of day, to the minute.
type Clock struct {
	Hour   int // 0–23
	Minute int // 0–59
}

// ParseClock parses "HH:MM" (24-hour, "21:00", "8:30").
func ParseClock(s string) (Clock, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return Clock{}, fmt.Errorf("%w: clock %q: want HH:MM", ErrInvalidQuietHours, s)
	}
	return Clock{Hour: t.Hour(), Minute: t.Minute()}, nil
}

// Valid reports whether c is a time of day.
func (c Clock) Valid() bool {
	return c.Hour >= 0 && c.Hour < 24 && c.Minute >= 0 && c.Minute < 60
}

// String returns "HH:MM".
func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", c.Hour, c.Minute) }

func (c Clock) sinceMidnight() time.Duration {
	return time.Duration(c.Hour)*time.Hour + time.Duration(c.Minute)*time.Minute
}

// QuietHours is the local night during which marketing messages are held
// (R8): from Start until End in the recipient's wall-clock time. A Start
// later than End spans midnight (21:00–08:00); Start equal to End, as in the
// zero value, means no quiet hours.
type QuietHours struct {
	Start Clock
	End   Clock
}

// Validate reports quiet hours with an impossible clock time, as an error
// matching ErrInvalidQuietHours.
func (q QuietHours) Validate() error {
	if !q.Start.Valid() || !q.End.Valid() {
		return fmt.Errorf("%w: %v–%v", ErrInvalidQuietHours, q.Start, q.End)
	}
	return nil
}

// Enabled reports whether q holds anything: valid and Start ≠ End.
func (q QuietHours) Enabled() bool {
	return q.Validate() == nil && q.Start != q.End
}

// Allowed returns when a message of purpose due at due may go out to a
// recipient in loc (nil means UTC): due itself for transactional messages,
// when q is not Enabled, or when due is outside the quiet hours; otherwise
// the first instant after due at which the wall clock in loc reaches End.
//
// It works on wall-clock time, so it is right across daylight-saving
// changes: a night that loses or gains an hour still ends at End local time.
// When End falls in the hour skipped by a spring-forward change, the message
// goes at the change itself; when it falls in the hour repeated by a
// fall-back change, at its first occurrence after due.
func (q QuietHours) Allowed(due time.Time, loc *time.Location, purpose Purpose) time.Time {
	if purpose == Transactional || !q.Enabled() {
		return due
	}
	if loc == nil {
		loc = time.UTC
	}
	local := due.In(loc)
	y, m, d := local.Date()
	now := time.Duration(local.Hour())*time.Hour + time.Duration(local.Minute())*time.Minute +
		time.Duration(local.Second())*time.Second + time.Duration(local.Nanosecond())
	start, end := q.Start.sinceMidnight(), q.End.sinceMidnight()
	var quiet bool
	if start < end {
		quiet = start <= now && now < end
	} else {
		quiet = now >= start || now < end
	}
	if !quiet {
		return due
	}
	if start > end && now >= start {
		d++ // the night ends tomorrow morning; time.Date normalises the day
	}
	// The End of this date, or, if every occurrence of it is before due
	// (possible only around a fall-back change), of the next date.
	for i := 0; i < 2; i++ {
		for _, t := range wallTimes(y, m, d+i, q.End, loc) {
			if !t.Before(due) {
				return t
			}
		}
	}
	return due
}

// wallTimes returns, in order, the instants at which the wall clock in loc
// reads c on the given date: usually one, two in the hour repeated by a
// fall-back change, and for a time skipped by a spring-forward change the
// instant of the change (the first at which the clock is past c).
func wallTimes(y int, m time.Month, d int, c Clock, loc *time.Location) []time.Time {
	// The wall time as if it were UTC, less each offset in effect near it.
	wall := time.Date(y, m, d, c.Hour, c.Minute, 0, 0, time.UTC)
	y, m, d = wall.Date() // normalised
	_, before := wall.Add(-26 * time.Hour).In(loc).Zone()
	_, after := wall.Add(26 * time.Hour).In(loc).Zone()
	var out []time.Time
	for _, off := range []int{before, after} {
		t := wall.Add(-time.Duration(off) * time.Second).In(loc)
		ty, tm, td := t.Date()
		if ty == y && tm == m && td == d && t.Hour() == c.Hour && t.Minute() == c.Minute && (len(out) == 0 || !out[0].Equal(t)) {
			out = append(out, t)
		}
	}
	if len(out) == 2 && out[1].Before(out[0]) {
		out[0], out[1] = out[1], out[0]
	}
	if len(out) == 0 {
		// Skipped by a change: read with the earlier offset, the wall time
		// lands after the change, whose instant starts that zone period.
		t := wall.Add(-time.Duration(before) * time.Second).In(loc)
		start, _ := t.ZoneBounds()
		out = append(out, start)
	}
	return out
}
