package textindex_test

import (
	"fmt"

	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/inbox/store/textindex"
)

func ExampleParseQuery() {
	fmt.Printf("%+v\n", textindex.ParseQuery("Hélène  Dubois"))
	fmt.Printf("%+v\n", textindex.ParseQuery("06 12 34 56 78"))
	// Output:
	// {Terms:[helene dubois] Phone:}
	// {Terms:[] Phone:0612345678}
}

func ExampleMatchSubject() {
	s := store.Snapshot{FirstName: "Hélène", LastName: "Dubois", Phone: "+33612345678"}
	fmt.Println(textindex.MatchSubject(s, textindex.ParseQuery("helene")))
	fmt.Println(textindex.MatchSubject(s, textindex.ParseQuery("06 12 34 56 78")))
	fmt.Println(textindex.MatchSubject(s, textindex.ParseQuery("+33612345678")))
	fmt.Println(textindex.PhoneForms(s.Phone))
	// Output:
	// true
	// true
	// true
	// [33612345678 612345678 0612345678]
}

func ExampleMessageWords() {
	fmt.Println(textindex.MessageWords("Votre rendez-vous est CONFIRMÉ, à demain !"))
	// Output: [votre rendez vous est confirme a demain]
}
