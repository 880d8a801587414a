package middleware

import (
	"errors"
	"net/http"
	"strings"
)

// maxTokenHeader bounds the Authorization header we are willing to parse.
const maxTokenHeader = 8 << 10

// ErrMalformedHeader means the Authorization header is not a Bearer token.
var ErrMalformedHeader = errors.New("middleware: malformed Authorization header")

// ErrRepeatedHeader means the request has more than one Authorization
// header. Such a request is malformed (RFC 9110 §5.3: Authorization is not
// a list), and which of the values counts would depend on the software
// reading it; RFC 6750 §3.1 answers it 400 invalid_request.
var ErrRepeatedHeader = errors.New("middleware: more than one Authorization header")

// BearerToken extracts the token of an "Authorization: Bearer" header
// (RFC 6750 §2.1; the scheme is case-insensitive). A missing header is
// ErrNoToken; two Authorization headers are ErrRepeatedHeader; another
// scheme or a malformed value is ErrMalformedHeader. Tokens in the query
// string or form body are not accepted.
func BearerToken(r *http.Request) (string, error) {
	values := r.Header.Values("Authorization")
	if len(values) > 1 {
		return "", ErrRepeatedHeader
	}
	var h string
	if len(values) == 1 {
		h = values[0]
	}
	if h == "" {
		return "", ErrNoToken
	}
	if len(h) > maxTokenHeader {
		return "", ErrMalformedHeader
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", ErrMalformedHeader
	}
	tok = strings.TrimLeft(tok, " ")
	if tok == "" || strings.ContainsAny(tok, " \t") {
		return "", ErrMalformedHeader
	}
	return tok, nil
}

// Authenticate extracts and verifies the bearer token of r. A malformed
// Authorization header matches ErrInvalidToken (and ErrMalformedHeader);
// a repeated one is ErrRepeatedHeader, answered 400 by ResponseFor.
func (v *Verifier) Authenticate(r *http.Request) (*Claims, error) {
	raw, err := BearerToken(r)
	if err != nil {
		if errors.Is(err, ErrMalformedHeader) {
			return nil, errors.Join(ErrInvalidToken, err)
		}
		return nil, err
	}
	return v.Verify(r.Context(), raw)
}

// Handler returns net/http middleware that verifies the bearer token and
// stores its claims in the request context (see ClaimsFrom), or answers
// with an RFC 6750 error (see ResponseFor). Its shape,
// func(http.Handler) http.Handler, is what chi's Use takes.
func (v *Verifier) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := v.Authenticate(r)
		if err != nil {
			WriteError(w, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithClaims(r.Context(), c)))
	})
}
