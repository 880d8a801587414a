package breached_test

import (
	"fmt"

	"github.com/authd/authd/internal/password/breached"
)

func ExampleContains() {
	fmt.Println(breached.Contains("Password1"))
	fmt.Println(breached.Contains("glacier marmalade 47 quietly"))
	// Output:
	// true
	// false
}
