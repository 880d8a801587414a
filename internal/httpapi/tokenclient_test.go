package httpapi

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/authd/authd/internal/auth"
)

func TestTokenClient(t *testing.T) {
	const id, secret = "svc_abcdefghijklmnopqrstuvwxyz", "se+cret/=x"
	tests := []struct {
		name    string
		headers []string
		post    postedClient
		want    auth.ClientCredentials
		wantErr error
	}{
		{name: "none", want: auth.ClientCredentials{}},
		{name: "public client naming itself", post: postedClient{id: "authd-web"}, want: auth.ClientCredentials{}},
		{name: "bearer header is not client authentication", headers: []string{"Bearer x"}, want: auth.ClientCredentials{}},
		{name: "basic, as sent", headers: []string{basic(id, secret)},
			want: auth.ClientCredentials{ID: id, Secret: "se cret/=x", RawID: id, RawSecret: secret, Method: auth.AuthMethodBasic}},
		{name: "basic, form-urlencoded (RFC 6749 §2.3.1)", headers: []string{basic(id, "se%2Bcret%2F%3Dx")},
			want: auth.ClientCredentials{ID: id, Secret: secret, RawID: id, RawSecret: "se%2Bcret%2F%3Dx", Method: auth.AuthMethodBasic}},
		{name: "basic with the same client_id in the body", headers: []string{basic(id, secret)}, post: postedClient{id: id},
			want: auth.ClientCredentials{ID: id, Secret: "se cret/=x", RawID: id, RawSecret: secret, Method: auth.AuthMethodBasic}},
		{name: "post", post: postedClient{id: id, secret: secret, hasSecret: true},
			want: auth.ClientCredentials{ID: id, Secret: secret, RawID: id, RawSecret: secret, Method: auth.AuthMethodPost}},
		{name: "post with an empty secret", post: postedClient{id: id, hasSecret: true},
			want: auth.ClientCredentials{ID: id, RawID: id, Method: auth.AuthMethodPost}},
		{name: "both methods", headers: []string{basic(id, secret)}, post: postedClient{id: id, secret: secret, hasSecret: true},
			wantErr: auth.ErrInvalidRequest},
		{name: "basic and another body client_id", headers: []string{basic(id, secret)}, post: postedClient{id: "other"},
			wantErr: auth.ErrInvalidRequest},
		{name: "two Authorization headers", headers: []string{basic(id, secret), basic(id, secret)}, wantErr: auth.ErrInvalidRequest},
		{name: "malformed base64", headers: []string{"Basic !!!"}, wantErr: auth.ErrInvalidClient},
		{name: "no colon", headers: []string{"Basic " + base64.StdEncoding.EncodeToString([]byte(id))}, wantErr: auth.ErrInvalidClient},
		{name: "malformed percent-encoding", headers: []string{basic(id, "%zz")}, wantErr: auth.ErrInvalidClient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/v1/token", nil)
			for _, h := range tt.headers {
				r.Header.Add("Authorization", h)
			}
			got, err := tokenClient(r, tt.post)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestParseFormRepeatable(t *testing.T) {
	tests := []struct {
		name, body string
		ok         bool
		resources  int
	}{
		{"one resource", "grant_type=client_credentials&resource=a", true, 1},
		{"repeated resource", "resource=a&resource=b", true, 2},
		{"repeated audience", "audience=a&audience=a", true, 0},
		{"repeated scope", "scope=a&scope=b", false, 0},
		{"repeated grant_type", "grant_type=a&grant_type=b", false, 0},
		{"malformed", "a=%zz", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := parseFormRepeatable([]byte(tt.body), "resource", "audience")
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok %v", err, tt.ok)
			}
			if tt.ok && len(v["resource"]) != tt.resources {
				t.Fatalf("resources %v", v["resource"])
			}
		})
	}
}
