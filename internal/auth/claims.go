package auth

import (
	"time"

	"github.com/authd/authd/pkg/token"
)

func registered(iss, sub, aud, jti string, iat, exp time.Time) token.RegisteredClaims {
	return token.RegisteredClaims{
		Issuer:    iss,
		Subject:   sub,
		Audience:  token.ClaimStrings{aud},
		ID:        jti,
		IssuedAt:  token.NewNumericDate(iat),
		ExpiresAt: token.NewNumericDate(exp),
	}
}
