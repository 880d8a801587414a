package middleware

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/authd/authd/pkg/token"
)

// fetch reads the JWK Set (discovering its URL first if needed) and
// returns it as a keyState. Errors match ErrFetch; they name the URL and a
// fixed reason, never response content.
func (r *RemoteKeySet) fetch(ctx context.Context) (*keyState, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.timeout)
	defer cancel()
	jwksURL, err := r.resolve(ctx)
	if err != nil {
		return nil, err
	}
	body, hdr, err := r.get(ctx, jwksURL, "application/jwk-set+json, application/json")
	if err != nil {
		return nil, err
	}
	keys, err := token.ParseJWKS(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrFetch, jwksURL, err)
	}
	st := &keyState{
		byID:      make(map[string]*token.Key, len(keys)),
		fetchedAt: r.cfg.now(),
		ttl:       cacheTTL(hdr, r.cfg.defaultTTL, r.cfg.minTTL, r.cfg.maxTTL),
	}
	for _, k := range keys {
		st.byID[k.ID] = k
	}
	if len(keys) == 1 {
		st.only = keys[0]
	}
	return st, nil
}

// resolve returns the JWK Set URL: the configured one, or the jwks_uri of
// the issuer's discovery document once its issuer has been checked.
func (r *RemoteKeySet) resolve(ctx context.Context) (string, error) {
	if !r.issuer {
		return r.source, nil
	}
	r.mu.Lock()
	u := r.jwksURL
	r.mu.Unlock()
	if u != "" {
		return u, nil
	}
	docURL := strings.TrimSuffix(r.source, "/") + discoveryPath
	body, _, err := r.get(ctx, docURL, "application/json")
	if err != nil {
		return "", err
	}
	var doc struct {
		Issuer   string          `json:"issuer"`
		JWKSURI  string          `json:"jwks_uri"`
		Lifetime json.RawMessage `json:"authd_access_token_lifetime"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", fmt.Errorf("%w: %s: not a JSON discovery document", ErrFetch, docURL)
	}
	if doc.Issuer != r.source {
		return "", fmt.Errorf("%w: %s: the document's issuer is not %s", ErrFetch, docURL, r.source)
	}
	if err := checkJWKSURI(doc.JWKSURI, r.source); err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrFetch, docURL, err)
	}
	// A malformed lifetime is ignored (the verifier's default bound
	// applies), not a failed fetch: the keys are still good.
	var secs int64
	if len(doc.Lifetime) > 0 && json.Unmarshal(doc.Lifetime, &secs) == nil && secs > 0 && secs <= maxPublishedLifetime {
		r.lifetime.Store(int64(time.Duration(secs) * time.Second))
	}
	r.mu.Lock()
	r.jwksURL = doc.JWKSURI
	r.mu.Unlock()
	return doc.JWKSURI, nil
}

// DiscoveryAccessTokenLifetime is the discovery document member in which
// authd publishes its access-token lifetime, in seconds (an extra member,
// as RFC 8414 §2 allows); a Verifier using the issuer's discovery bounds
// exp - iat by it.
const DiscoveryAccessTokenLifetime = "authd_access_token_lifetime"

// maxPublishedLifetime bounds the lifetime read from a discovery
// document, in seconds (a year): more is taken for a mistake.
const maxPublishedLifetime = 366 * 24 * 3600

// checkJWKSURI accepts an absolute https jwks_uri, or http only when the
// issuer itself is http (development).
func checkJWKSURI(raw, issuer string) error {
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return fmt.Errorf("no jwks_uri")
	case err != nil || u.Host == "":
		return fmt.Errorf("jwks_uri is not an absolute URL")
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && strings.HasPrefix(issuer, "http://"):
		return nil
	}
	return fmt.Errorf("jwks_uri must be https")
}

// get fetches u and returns its body, at most maxSize bytes.
func (r *RemoteKeySet) get(ctx context.Context, u, accept string) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %w", ErrFetch, u, err)
	}
	req.Header.Set("Accept", accept)
	resp, err := r.cfg.client.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrFetch, err) // *url.Error names the URL
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("%w: %s: status %d", ErrFetch, u, resp.StatusCode)
	}
	limit := r.cfg.maxSize
	if resp.ContentLength > limit {
		return nil, nil, fmt.Errorf("%w: %s: response larger than %d bytes", ErrFetch, u, limit)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: reading the body: %w", ErrFetch, u, err)
	}
	if int64(len(body)) > limit {
		return nil, nil, fmt.Errorf("%w: %s: response larger than %d bytes", ErrFetch, u, limit)
	}
	return body, resp.Header, nil
}

// cacheTTL is how long a response stays fresh: its Cache-Control max-age
// less its Age, def without max-age, lo for no-cache or no-store, always
// within lo..hi.
func cacheTTL(h http.Header, def, lo, hi time.Duration) time.Duration {
	ttl := def
	for _, line := range h.Values("Cache-Control") {
		for d := range strings.SplitSeq(line, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(d), "=")
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "no-cache", "no-store":
				return lo
			case "max-age":
				if secs, ok := seconds(val); ok {
					ttl = secs
				}
			}
		}
	}
	if age, ok := seconds(h.Get("Age")); ok {
		ttl -= age
	}
	return min(max(ttl, lo), hi)
}

// seconds parses a delta-seconds value (RFC 9111 §1.2.2), quoted or not.
func seconds(s string) (time.Duration, bool) {
	s = strings.Trim(strings.TrimSpace(s), `"`)
	n, err := strconv.ParseUint(s, 10, 63)
	if err != nil {
		return 0, false
	}
	const maxSecs = uint64(1<<63-1) / uint64(time.Second)
	return time.Duration(min(n, maxSecs)) * time.Second, true
}
