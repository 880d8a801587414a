package auth

import (
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func registered(iss, sub, aud, jti string, iat, exp time.Time) jwt.RegisteredClaims {
	return jwt.RegisteredClaims{
		Issuer:    iss,
		Subject:   sub,
		Audience:  jwt.ClaimStrings{aud},
		ID:        jti,
		IssuedAt:  jwt.NewNumericDate(iat),
		ExpiresAt: jwt.NewNumericDate(exp),
	}
}
