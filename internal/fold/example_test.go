package fold_test

import (
	"fmt"

	"github.com/parleyhq/parley/internal/fold"
)

func ExampleString() {
	fmt.Println(fold.String("Hélène") == fold.String("HELENE"))
	fmt.Println(fold.String("ARRÊT"), fold.String("Straße"))
	// Output:
	// true
	// arret strasse
}

func ExampleDigits() {
	fmt.Println(fold.Digits("06 12 34 56 78"), fold.Digits("+33 6 12 34 56 78"))
	// Output: 0612345678 33612345678
}
