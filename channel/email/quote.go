package email

import (
	"regexp"
	"strings"
)

// Patterns of the lines mail clients put above quoted history. They are
// compiled once and only read afterwards.
var (
	// Attribution lines, possibly wrapped over up to three lines:
	// "On Mon, 2 Jan 2026 at 10:00, Jane <jane@example.com> wrote:",
	// "Le lun. 2 janv. 2026 à 10:00, Jane <jane@example.com> a écrit :".
	attributionRE = regexp.MustCompile(`(?i)^(?:` +
		`on\s.{4,300}\swrote\s?:` +
		`|le\s.{4,300}\sa\s+écrit\s?:` +
		`|am\s.{4,300}\sschrieb\s.{0,200}:` +
		`|el\s.{4,300}\sescribió\s?:` +
		`|il\s.{4,300}\sha\s+scritto\s?:` +
		`|op\s.{4,300}\sschreef\s.{0,200}:` +
		`|em\s.{4,300}\sescreveu\s?:` +
		`|.{0,200}<[^<>\s]+@[^<>\s]+>\s+(?:wrote|a\s+écrit|schrieb|escribió|ha\s+scritto|schreef|escreveu)\s?:` +
		`)$`)
	// Separator lines: "-----Original Message-----", "----- Message d'origine -----".
	separatorRE = regexp.MustCompile(`(?i)^-{2,}\s*(?:original message|message d'origine|message d’origine|message original|mensaje original|ursprüngliche nachricht|messaggio originale|oorspronkelijk bericht|mensagem original|forwarded message|message transféré|weitergeleitete nachricht)\s*-{2,}$`)
	// Outlook header blocks: a From line followed by Sent or Date.
	outlookFromRE = regexp.MustCompile(`(?i)^\*?(?:from|de|von|da|van|od)\s?:\*?\s*\S`)
	outlookSentRE = regexp.MustCompile(`(?i)^\*?(?:sent|date|envoyé|gesendet|datum|inviato|data|enviado|enviada|verzonden|fecha)\s?:\*?\s*\S`)
	// A line of underscores Outlook puts above the header block.
	underscoreRE = regexp.MustCompile(`^_{10,}$`)
	// Signatures mobile clients add on their own line.
	mobileSigRE = regexp.MustCompile(`(?i)^(?:sent from my\s|sent from mail for\s|get outlook for\s|envoyé de mon\s|envoyé depuis mon\s|envoyé à partir de\s|obtenir outlook pour\s|von meinem\s.{0,40}\sgesendet$|enviado desde mi\s|inviato da\s)`)
)

// StripQuoted returns the new text of a reply: the text before the quoted
// history and the signature. It cuts at the first attribution line
// ("On … wrote:", "Le … a écrit :", and their German, Spanish, Italian,
// Dutch and Portuguese forms, also when wrapped over several lines), the
// first separator ("-----Original Message-----", "----- Message d'origine
// -----"), the first Outlook header block ("From: …" followed by "Sent: …"
// or "Date: …"; "De : …" / "Envoyé : …"), and at the signature delimiter
// ("-- " alone on a line, RFC 3676). It drops lines quoted with ">" (so an
// answer written between quoted lines is kept), trailing mobile signatures
// ("Sent from my iPhone", "Envoyé de mon iPhone"), line-end white space and
// blank lines at both ends. Line breaks are returned as "\n".
func StripQuoted(text string) string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	lines := strings.Split(text, "\n")
	if cut := quoteStart(lines); cut >= 0 {
		lines = lines[:cut]
	}
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		l = strings.TrimRight(l, " \t\u00a0")
		if l == "--" || l == "-- " {
			break
		}
		if strings.HasPrefix(strings.TrimLeft(l, " \t"), ">") {
			continue
		}
		out = append(out, l)
	}
	// Drop trailing blank lines, then a trailing mobile signature.
	for {
		for len(out) > 0 && strings.TrimSpace(out[len(out)-1]) == "" {
			out = out[:len(out)-1]
		}
		if len(out) > 0 && mobileSigRE.MatchString(strings.TrimSpace(out[len(out)-1])) {
			out = out[:len(out)-1]
			continue
		}
		break
	}
	for len(out) > 0 && strings.TrimSpace(out[0]) == "" {
		out = out[1:]
	}
	return strings.Join(out, "\n")
}

// quoteStart returns the index of the first line of quoted history, or -1.
func quoteStart(lines []string) int {
	for i := range lines {
		l := normalizeSpace(lines[i])
		if l == "" {
			continue
		}
		if separatorRE.MatchString(l) {
			return i
		}
		if underscoreRE.MatchString(l) {
			for j := i + 1; j < len(lines) && j <= i+2; j++ {
				if outlookFromRE.MatchString(normalizeSpace(lines[j])) {
					return i
				}
			}
		}
		if outlookFromRE.MatchString(l) {
			for j := i + 1; j < len(lines) && j <= i+5; j++ {
				if outlookSentRE.MatchString(normalizeSpace(lines[j])) {
					return i
				}
			}
		}
		if !maybeAttribution(l) {
			continue
		}
		joined := l
		for j := i; j < len(lines) && j < i+3; j++ {
			if j > i {
				next := normalizeSpace(lines[j])
				if next == "" {
					break
				}
				joined += " " + next
			}
			if len(joined) > 600 {
				break
			}
			if attributionRE.MatchString(joined) && hasDateOrAddress(joined) {
				return i
			}
		}
	}
	return -1
}

// maybeAttribution is a cheap filter before the attribution pattern.
func maybeAttribution(l string) bool {
	if len(l) < 3 {
		return false
	}
	low := strings.ToLower(l[:3])
	switch low[:2] {
	case "on", "le", "am", "el", "il", "op", "em":
		return low[2] == ' ' || low[2] == '\t'
	}
	return strings.Contains(l, "@")
}

func hasDateOrAddress(s string) bool {
	return strings.ContainsAny(s, "0123456789@")
}

// normalizeSpace turns no-break spaces into spaces and trims the line.
func normalizeSpace(s string) string {
	return strings.TrimSpace(spaceReplacer.Replace(s))
}

// spaceReplacer is built once and only read (strings.Replacer is safe for
// concurrent use).
var spaceReplacer = strings.NewReplacer("\u00a0", " ", "\u202f", " ", "\t", " ")
