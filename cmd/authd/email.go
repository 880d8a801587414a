package main

import "github.com/authd/authd/internal/auth"

// normalizeEmail applies the service's normalisation so the CLI finds the
// same account the API would; an invalid address is passed through and
// simply not found.
func normalizeEmail(s string) string {
	if e, err := auth.NormalizeEmail(s); err == nil {
		return e
	}
	return s
}
