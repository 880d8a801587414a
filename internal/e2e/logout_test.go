package e2e_test

import (
	"net/http"
	"testing"
)

func TestLogoutScopes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startOn(t, b, newClock(), nil)
		s.register("hank@example.com", "correct horse battery")
		login := func() tokens { return s.login("hank@example.com", "correct horse battery") }

		t.Run("local", func(t *testing.T) {
			a, other := login(), login()
			if r := s.logout(a.AccessToken, ""); r.Status != http.StatusNoContent {
				t.Fatalf("logout: %d %s", r.Status, r.Body)
			}
			s.get("/v1/me", a.AccessToken).wantError(t, 401, "invalid_token")
			s.refresh(a.RefreshToken).wantError(t, 400, "invalid_grant")
			if r := s.get("/v1/me", other.AccessToken); r.Status != http.StatusOK {
				t.Fatalf("another session was logged out: %d", r.Status)
			}
			if r := s.refresh(other.RefreshToken); r.Status != http.StatusOK {
				t.Fatalf("another session cannot refresh: %d", r.Status)
			}
		})

		t.Run("others", func(t *testing.T) {
			keep, o1, o2 := login(), login(), login()
			// Scope in a JSON body is accepted as well as in the query.
			r := s.do("POST", "/v1/logout", "application/json", `{"scope":"others"}`, map[string]string{"Authorization": "Bearer " + keep.AccessToken})
			if r.Status != http.StatusNoContent {
				t.Fatalf("logout others: %d %s", r.Status, r.Body)
			}
			for _, o := range []tokens{o1, o2} {
				s.get("/v1/me", o.AccessToken).wantError(t, 401, "invalid_token")
				s.refresh(o.RefreshToken).wantError(t, 400, "invalid_grant")
			}
			if r := s.get("/v1/me", keep.AccessToken); r.Status != http.StatusOK {
				t.Fatalf("the calling session was logged out: %d", r.Status)
			}
			if r := s.refresh(keep.RefreshToken); r.Status != http.StatusOK {
				t.Fatalf("the calling session cannot refresh: %d %s", r.Status, r.Body)
			}
		})

		t.Run("global", func(t *testing.T) {
			a, b := login(), login()
			if r := s.logout(a.AccessToken, "global"); r.Status != http.StatusNoContent {
				t.Fatalf("logout global: %d %s", r.Status, r.Body)
			}
			for _, x := range []tokens{a, b} {
				s.get("/v1/me", x.AccessToken).wantError(t, 401, "invalid_token")
				s.refresh(x.RefreshToken).wantError(t, 400, "invalid_grant")
			}
			// A new login after a global logout works.
			fresh := login()
			if r := s.get("/v1/me", fresh.AccessToken); r.Status != http.StatusOK {
				t.Fatalf("login after global logout: %d %s", r.Status, r.Body)
			}
		})

		t.Run("bad scope and no token", func(t *testing.T) {
			a := login()
			s.logout(a.AccessToken, "everything").wantError(t, 400, "invalid_request")
			r := s.do("POST", "/v1/logout", "", "", nil)
			if r.Status != 401 || r.Header.Get("WWW-Authenticate") != "Bearer" {
				t.Fatalf("logout without token: %d %q", r.Status, r.Header.Get("WWW-Authenticate"))
			}
		})

		t.Run("repeat is harmless", func(t *testing.T) {
			a := login()
			s.logout(a.AccessToken, "")
			// The token is revoked now: a retry is refused, changes nothing.
			s.logout(a.AccessToken, "").wantError(t, 401, "invalid_token")
		})
	})
}
