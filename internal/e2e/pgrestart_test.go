package e2e_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/internal/app"
	"github.com/authd/authd/internal/testenv"
)

// TestPostgresRestartUnderLoad restarts authd's own Postgres while
// workers log in, refresh and verify over loopback HTTP: every answer
// during the outage is 503 (never a 500, never a hang past the client's
// timeout), authd serves again without a restart, every refresh chain has
// exactly one live session (no fork), and the last token every chain was
// given (each refresh that answered 200) still refreshes.
func TestPostgresRestartUnderLoad(t *testing.T) {
	pg := testenv.StartPostgres(t)
	cfg := testConfig()
	cfg.DatabaseURL = pg.URL()
	cfg.MasterKey = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{5}, 32))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Addr = ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- a.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-served
		a.Close()
	})
	base := "http://" + ln.Addr().String()
	// The client's timeout is what "a hang" means here.
	client := &http.Client{Timeout: 5 * time.Second}
	post := func(path, contentType, body, bearer string) (int, []byte, error) {
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, b, err
	}
	const pw = "correct horse battery"
	creds := func(email string) string { return fmt.Sprintf(`{"email":%q,"password":%q}`, email, pw) }
	type tok struct {
		Access  string `json:"access_token"`
		Refresh string `json:"refresh_token"`
	}
	loginAs := func(email string) tok {
		t.Helper()
		if st, b, err := post("/v1/register", "application/json", creds(email), ""); err != nil || st != http.StatusCreated {
			t.Fatalf("register %s: %d %s %v", email, st, b, err)
		}
		st, b, err := post("/v1/login", "application/json", creds(email), "")
		if err != nil || st != http.StatusOK {
			t.Fatalf("login %s: %d %s %v", email, st, b, err)
		}
		var tk tok
		if err := json.Unmarshal(b, &tk); err != nil {
			t.Fatal(err)
		}
		return tk
	}
	const chains = 6
	last := make([]tok, chains)
	for i := range last {
		last[i] = loginAs(fmt.Sprintf("chain%d@example.com", i))
	}
	loginAs("loginer@example.com")

	// Outcome counters, by kind of request.
	var mu sync.Mutex
	statuses := map[string]map[int]int{}
	var hangs, others []string
	note := func(kind string, st int, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			hangs = append(hangs, fmt.Sprintf("%s: %v", kind, err))
			return
		}
		if statuses[kind] == nil {
			statuses[kind] = map[int]int{}
		}
		statuses[kind][st]++
		if st != http.StatusOK && st != http.StatusServiceUnavailable {
			others = append(others, fmt.Sprintf("%s: %d", kind, st))
		}
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	for i := range chains {
		wg.Go(func() {
			for !stop.Load() {
				form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {last[i].Refresh}}.Encode()
				st, b, err := post("/v1/token", "application/x-www-form-urlencoded", form, "")
				note("refresh", st, err)
				if err == nil && st == http.StatusOK {
					var tk tok
					if json.Unmarshal(b, &tk) == nil {
						last[i] = tk // acknowledged: the chain goes on from here
					}
				}
				req, _ := http.NewRequest("GET", base+"/v1/verify", nil)
				req.Header.Set("Authorization", "Bearer "+last[i].Access)
				if resp, err := client.Do(req); err != nil {
					note("verify", 0, err)
				} else {
					resp.Body.Close()
					note("verify", resp.StatusCode, nil)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
	wg.Go(func() {
		for !stop.Load() {
			st, _, err := post("/v1/login", "application/json", creds("loginer@example.com"), "")
			note("login", st, err)
			time.Sleep(50 * time.Millisecond)
		}
	})

	time.Sleep(2 * time.Second)
	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	outageStart := time.Now()
	time.Sleep(3 * time.Second)
	if err := pg.Start(); err != nil {
		t.Fatal(err)
	}
	restarted := time.Now()
	t.Logf("postgres down for %s", restarted.Sub(outageStart).Round(time.Millisecond))

	// Recovery: every chain refreshes with 200 again, in the same process.
	mu.Lock()
	okBefore := statuses["refresh"][http.StatusOK]
	mu.Unlock()
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		ok := statuses["refresh"][http.StatusOK]
		mu.Unlock()
		if ok >= okBefore+3*chains {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("authd did not recover within 20s of Postgres starting again: %v", statuses)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("recovered %s after Postgres started", time.Since(restarted).Round(time.Millisecond))
	time.Sleep(time.Second)
	stop.Store(true)
	wg.Wait()

	t.Logf("statuses: %v", statuses)
	if len(hangs) > 0 {
		t.Errorf("%d requests failed or hung past the client's 5s timeout, e.g. %v", len(hangs), hangs[:min(3, len(hangs))])
	}
	if len(others) > 0 {
		t.Errorf("%d answers were neither 200 nor 503, e.g. %v", len(others), others[:min(5, len(others))])
	}
	if statuses["refresh"][http.StatusServiceUnavailable] == 0 && statuses["login"][http.StatusServiceUnavailable] == 0 {
		t.Error("no request saw the outage (no 503): the restart was not exercised")
	}

	// Nothing acknowledged is lost: each chain's last token refreshes.
	for i := range last {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {last[i].Refresh}}.Encode()
		if st, b, err := post("/v1/token", "application/x-www-form-urlencoded", form, ""); err != nil || st != http.StatusOK {
			t.Errorf("chain %d: its last acknowledged refresh token no longer refreshes: %d %s %v", i, st, b, err)
		}
	}
	// No fork: each chain user has exactly one live session.
	db, err := sql.Open("postgres", pg.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT u.email, count(s.id) FROM users u LEFT JOIN sessions s ON s.user_id = u.id
		AND s.revoked_at IS NULL WHERE u.email LIKE 'chain%' GROUP BY u.email`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var email string
		var live int
		if err := rows.Scan(&email, &live); err != nil {
			t.Fatal(err)
		}
		n++
		if live != 1 {
			t.Errorf("%s has %d live sessions, want 1 (a forked or lost family)", email, live)
		}
	}
	if err := errors.Join(rows.Err()); err != nil || n != chains {
		t.Fatalf("chain users = %d, want %d (%v)", n, chains, err)
	}
}
