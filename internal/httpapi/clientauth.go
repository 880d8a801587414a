package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
)

// Client authentication failures: errClientUnauthorized is answered 401
// invalid_client, errClientRequest 400 invalid_request.
var (
	errClientUnauthorized = errors.New("client authentication failed")
	errClientRequest      = errors.New("more than one Authorization header")
)

// presentedClient is the client id and secret of a request's HTTP Basic
// credentials, both as RFC 6749 §2.3.1 defines them (form-urlencoded, then
// Basic-encoded: decoded here) and as sent.
type presentedClient struct {
	id, secret       string
	rawID, rawSecret string
}

// readClientCredentials reads the HTTP Basic client credentials of r. Per
// RFC 6749 §2.3.1 (which RFC 7662 §2.1 uses) the client id and secret are
// form-urlencoded before the Basic encoding, so "interop-gateway" may come
// as "interop%2Dgateway" and a '+' as "%2B". A request with two
// Authorization headers is errClientRequest; no Basic credentials, or
// malformed base64 or percent-encoding, are errClientUnauthorized.
func readClientCredentials(r *http.Request) (presentedClient, error) {
	values := r.Header.Values("Authorization")
	if len(values) > 1 {
		return presentedClient{}, errClientRequest
	}
	if len(values) == 0 {
		return presentedClient{}, errClientUnauthorized
	}
	scheme, encoded, ok := strings.Cut(values[0], " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return presentedClient{}, errClientUnauthorized
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimLeft(encoded, " "))
	if err != nil {
		return presentedClient{}, errClientUnauthorized
	}
	rawID, rawSecret, ok := strings.Cut(string(raw), ":")
	if !ok {
		return presentedClient{}, errClientUnauthorized
	}
	id, err := url.QueryUnescape(rawID)
	if err != nil {
		return presentedClient{}, errClientUnauthorized
	}
	secret, err := url.QueryUnescape(rawSecret)
	if err != nil {
		return presentedClient{}, errClientUnauthorized
	}
	return presentedClient{id: id, secret: secret, rawID: rawID, rawSecret: rawSecret}, nil
}

// clientSecret holds the digests of one confidential client's id and
// secret: comparing fixed-size digests keeps the comparison constant time
// whatever the presented lengths. The zero value accepts no one.
type clientSecret struct {
	id, secret [sha256.Size]byte
	enabled    bool
}

func newClientSecret(id, secret string) clientSecret {
	if id == "" || secret == "" {
		return clientSecret{}
	}
	return clientSecret{id: sha256.Sum256([]byte(id)), secret: sha256.Sum256([]byte(secret)), enabled: true}
}

// matches reports whether p names this client with its secret, decoded as
// RFC 6749 says, or as sent: clients that send the id and secret without
// form-urlencoding them (most do, and it only differs for characters
// outside [A-Za-z0-9*-._]) keep working. Both pairs are always compared.
func (s clientSecret) matches(p presentedClient) bool {
	decoded := s.pairMatches(p.id, p.secret)
	raw := s.pairMatches(p.rawID, p.rawSecret)
	return s.enabled && decoded|raw == 1
}

func (s clientSecret) pairMatches(id, secret string) int {
	gotID, gotSecret := sha256.Sum256([]byte(id)), sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare(gotID[:], s.id[:]) & subtle.ConstantTimeCompare(gotSecret[:], s.secret[:])
}

// authenticateClient checks the request's HTTP Basic client credentials
// against s and answers the request itself when they fail: 401
// invalid_client with a Basic challenge, or 400 invalid_request for two
// Authorization headers.
func authenticateClient(c *gin.Context, s clientSecret, realm string) bool {
	p, err := readClientCredentials(c.Request)
	if err == nil && s.matches(p) {
		return true
	}
	if errors.Is(err, errClientRequest) {
		writeCode(c, http.StatusBadRequest, "invalid_request", "the request has more than one Authorization header")
		return false
	}
	c.Header("WWW-Authenticate", `Basic realm="`+realm+`"`)
	writeCode(c, http.StatusUnauthorized, "invalid_client", "client authentication failed: send the configured client credentials with HTTP Basic")
	return false
}
