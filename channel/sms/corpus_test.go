package sms

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// corpusTemplates are SMS bodies as studios, gyms and hotels send them, in
// the mix of languages and keyboards a European booking business sees: plain
// GSM-7 English and German, French, Spanish and Italian with accents that are
// GSM-7 and accents that are not, text typed with curly quotes and long
// dashes (SmartGSM7), emoji, other scripts, and a few bodies longer than one
// segment. weight is how many bodies of the corpus use the template.
var corpusTemplates = []struct {
	weight int
	text   string
}{
	// English, GSM-7 (some with extension characters).
	{19, "Hi {name}, your {class} class is booked for {date} at {time}. Reply STOP to opt out."},
	{16, "Reminder: {class} with {teacher} tomorrow at {time} in {room}. Please arrive 10 minutes early and bring water."},
	{13, "{name}, a spot opened in {class} on {date} at {time}. You're off the waitlist, see you there!"},
	{14, "Your booking #{code} at {venue} is confirmed: check-in {date} from 15:00, check-out by 11:00. Reply to this SMS with any question."},
	{10, "Payment of {price} received for your 10-class pass. {n} classes left. Thanks!"},
	{8, "Hi {name}! Room {room} is ready. Wi-Fi: {venue}-Guest, password {code}. Breakfast 7-10am [lobby level]."},
	{10, "Class cancelled: {class} on {date} at {time} (teacher unwell). Your credit is back in your account."},
	{7, "Happy birthday {name}! Enjoy a free guest pass this month, just show this message at the front desk."},
	{8, "Your membership ends on {date}. Renew at {url} or at reception to keep your rate of {price}/month."},
	{10, "{code} is your {venue} verification code. It expires in 10 minutes."},
	{8, "{venue}: {class} moves to {room} on {date}, same time ({time}). Sorry for the change!"},
	{8, "Hi {name}, how was your stay at {venue}? We would love a review: {url} ~ the team"},
	{5, "Late checkout until 1pm confirmed for room {room}. Have a great last day!"},
	{6, "New: {class} every Tuesday at {time} from {date}. Book now at {url}"},
	{6, "Invoice {code} ({price}) is overdue. Pay at {url} to keep your bookings active. Questions? Just reply to this message."},
	{5, "OK"},
	{4, "Hi {name}, thanks for joining {venue}! Your first week: {class} on {date} at {time}, then an intro session with {teacher} to set your goals. Download the app to book classes, freeze your plan or update your card. Reply HELP for help, STOP to opt out."},
	// Longer bodies: two to three segments.
	{10, "Hi {name}, we look forward to welcoming you at {venue} on {date}. Check-in opens at 15:00 and your room {room} will be ready by then. Parking is free for guests, the code for the gate is {code}. Breakfast is served 7-10:30 in the garden room. Need anything before you arrive? Reply to this message."},
	{6, "Bonjour {name}, votre séjour à {venue} approche ! L’arrivée se fait à partir de 15h, le code du parking est {code}. Le petit-déjeuner est servi de 7h à 10h30, le spa est ouvert jusqu’à 20h. Une question ? Répondez simplement à ce SMS."},
	{5, "Hi {name} 👋 Big news: {venue} now opens at 6am on weekdays! 🌅 Early {class} with {teacher} starts {date} at {time}, and members get a free smoothie 🥤 after class all month. Book in the app 📲"},
	{3, "Hallo {name}, wir freuen uns auf Ihren Besuch im {venue} am {date}. Check-in ab 15 Uhr, Zimmer {room}. Frühstück von 7 bis 10:30 Uhr, die Sauna ist bis 21 Uhr geöffnet. Bei Fragen antworten Sie einfach auf diese SMS."},
	// English typed with curly quotes, dashes and bullets: SmartGSM7.
	{10, "Hi {name} – your “{class}” session is confirmed for {date}, {time}. Don’t forget your towel…"},
	{8, "We’re sorry, {class} is full. You’re #{n} on the waitlist — we’ll text you if a spot opens."},
	{5, "Reminder: spa treatment at {time} • {room} • please arrive 15 min early."},
	// English with emoji.
	{9, "Hi {name}! 🎉 Your first {class} class is tomorrow at {time}. Bring water 💧 and a towel. See you there! 💪"},
	{5, "Good morning ☀️ Breakfast is served until 10:30 on the terrace. Enjoy your stay at {venue}!"},
	{5, "🔥 Last spots for {class} this Saturday at {time}! Book in the app before they're gone."},
	{4, "Thanks for visiting {venue} 🙏 See you again soon!"},
	// French.
	{13, "Bonjour {name}, votre séance de {class} est confirmée le {date} à {time}. À bientôt !"},
	{12, "Rappel : {class} demain à {time} avec {teacher}, salle {room}. Pensez à votre tapis et à une bouteille d'eau."},
	{8, "Votre réservation n°{code} à {venue} est confirmée : arrivée le {date} dès 15h, départ avant 11h."},
	{9, "Bonjour {name}, le cours de {class} du {date} est annulé. Votre crédit a été remis sur votre compte."},
	{8, "{name}, une place s'est libérée pour {class} le {date} à {time}. Réservez vite dans l'application !"},
	{6, "Votre chambre {room} est prête. Le petit-déjeuner est servi de 7h à 10h30 au rez-de-chaussée."},
	{6, "Merci pour votre séjour à {venue} ! Donnez-nous votre avis en 1 minute : {url}"},
	{6, "Votre abonnement expire le {date}. Renouvelez-le à l’accueil ou en ligne pour garder votre tarif de {price}/mois."},
	{4, "Joyeux anniversaire {name} ! 🎂 Un cours offert vous attend ce mois-ci."},
	{6, "Paiement de {price} bien reçu. Il vous reste {n} séances sur votre carte. Merci !"},
	{4, "Bonjour {name}, nous n'avons pas encore reçu le règlement de la facture {code} ({price}). Merci de régulariser sur {url}"},
	{3, "Bonjour {name}, bienvenue à {venue} ! Votre chambre {room} vous attend à partir de 15h. Le spa est ouvert de 9h à 20h, le restaurant de 19h à 22h30. Pour toute demande, répondez simplement à ce message, l'équipe de la réception est là 24h/24."},
	// Spanish, German, Italian, Portuguese, Dutch.
	{5, "Hola {name}, tu clase de {class} está confirmada para el {date} a las {time}. ¡Te esperamos!"},
	{4, "Recordatorio: tu reserva en {venue} empieza el {date}. Check-in desde las 15:00. ¿Alguna pregunta? Responde a este SMS."},
	{5, "Hallo {name}, dein {class}-Kurs am {date} um {time} ist bestätigt. Bis bald!"},
	{4, "Ihr Zimmer {room} ist bereit. Frühstück gibt es von 7 bis 10 Uhr im Erdgeschoß."},
	{4, "Ciao {name}, la tua lezione di {class} è confermata per il {date} alle {time}. A presto!"},
	{3, "Il tuo soggiorno a {venue} è quasi finito: il check-out è entro le 11:00. Grazie e buon viaggio!"},
	{3, "Olá {name}! A sua aula de {class} está marcada para {date} às {time}. Até já!"},
	{3, "Hoi {name}, je les {class} op {date} om {time} is bevestigd. Tot dan!"},
	// Other scripts.
	{3, "Γεια σας {name}, η κράτησή σας στο {venue} επιβεβαιώθηκε για {date}. Ευχαριστούμε!"},
	{3, "Здравствуйте, {name}! Ваше занятие {class} подтверждено на {date} в {time}. До встречи!"},
	{3, "Cześć {name}, Twoja rezerwacja na {class} {date} o {time} została potwierdzona. Do zobaczenia!"},
	{3, "Merhaba {name}, {date} tarihli {class} dersiniz onaylandı. Görüşmek üzere!"},
	{1, "مرحبا {name}، تم تأكيد حجزك في {venue} بتاريخ {date}. شكرا لك!"},
	{1, "שלום {name}, ההזמנה שלך ל-{class} ב-{date} בשעה {time} אושרה."},
	{3, "{name}您好，您在{venue}的预订已确认：{date}入住，请于15:00后办理入住手续。如有疑问请回复本短信。"},
	{1, "{name}様、{date} {time}の{class}のご予約を承りました。キャンセルはアプリからどうぞ。"},
	{1, "नमस्ते {name}, {date} को {time} बजे आपकी {class} क्लास की बुकिंग पक्की हो गई है।"},
}

// corpusFills are the values of the template variables; names carry the
// accents of real member lists, some of them outside GSM-7.
var corpusFills = map[string][]string{
	"name": {"Emma", "Lucas", "Hélène", "François", "Chloé", "Noah", "Zoë", "Jürgen", "Ana", "Léa",
		"Mia", "Søren", "Marie-José", "Oliver", "Inès", "Björn", "Agnieszka", "Jack", "Camille", "Nuñez"},
	"class":   {"Yoga", "Pilates", "HIIT", "Spin", "Barre", "Boxing", "Vinyasa flow", "Aqua gym", "CrossFit", "Stretching"},
	"teacher": {"Sarah", "Tom", "Julie", "Marco", "Aïcha", "Ben", "Élodie", "Paul"},
	"date":    {"Mon 3 Mar", "12/04", "Friday", "2025-06-14", "tomorrow", "Sat 21 Sep", "15/11", "Thursday"},
	"time":    {"07:00", "9:30", "12:15", "18:00", "19:45", "6pm", "8am"},
	"room":    {"Studio 2", "Room 214", "the pool hall", "Studio A", "305", "Suite 12"},
	"venue":   {"Pulse Studio", "Hotel Belvédère", "FitLab", "Le Grand Hôtel", "Casa Azul", "Studio Nord", "Alpenhof"},
	"code":    {"483920", "BK-20931", "7F3K2Q", "INV-1042", "552019", "R8841"},
	"price":   {"€45.00", "45,00 €", "£39", "$29.99", "120 EUR", "€9"},
	"url":     {"https://pulse.example/r/8Kq2", "fitlab.example/renew", "https://hotel.example/review?b=4821", "bit.ly/3xYz"},
	"n":       {"2", "3", "5", "7", "12"},
}

// corpusBodies builds the benchmark corpus: 362 bodies, 107 characters on
// average, the same on every run.
func corpusBodies() []string {
	rng := rand.New(rand.NewPCG(362, 107))
	var bodies []string
	for _, t := range corpusTemplates {
		for range t.weight {
			var b strings.Builder
			rest := t.text
			for {
				before, after, ok := strings.Cut(rest, "{")
				b.WriteString(before)
				if !ok {
					break
				}
				name, tail, _ := strings.Cut(after, "}")
				vals := corpusFills[name]
				b.WriteString(vals[rng.IntN(len(vals))])
				rest = tail
			}
			bodies = append(bodies, b.String())
		}
	}
	rng.Shuffle(len(bodies), func(i, j int) { bodies[i], bodies[j] = bodies[j], bodies[i] })
	return bodies
}

// TestCorpusShape pins what BenchmarkMeasureCorpus's documentation says of
// its corpus, so that a change to the templates shows in the figures' label.
func TestCorpusShape(t *testing.T) {
	bodies := corpusBodies()
	chars, ucs2, smart := 0, 0, 0
	for _, s := range bodies {
		chars += utf8.RuneCountInString(s)
		m := Measure(s)
		if m.Encoding == UCS2 {
			ucs2++
		}
		if m.SmartGSM7 {
			smart++
		}
	}
	mean := float64(chars) / float64(len(bodies))
	if len(bodies) != 362 || mean < 106.5 || mean >= 107.5 || ucs2 != 159 || smart == 0 {
		t.Errorf("corpus: %d bodies, %.1f characters on average, %d UCS-2, %d SmartGSM7; want 362, 107, 159, some",
			len(bodies), mean, ucs2, smart)
	}
}
