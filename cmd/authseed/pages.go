package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// pagesOptions configure `authseed pages`: a load of GET /v1/admin/users
// walking the keyset pages, which authbench's scenarios do not cover (they
// need an admin, which the seeded database has).
type pagesOptions struct {
	target, email, password string
	duration                time.Duration
	concurrency, limit      int
	depth                   int
}

// runPages logs in as the admin and has each worker walk the user list
// page by page (up to depth pages, then from the start again), printing
// pages per second and latency percentiles.
func runPages(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o pagesOptions
	fs := flag.NewFlagSet("authseed pages", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.target, "target", "http://127.0.0.1:8080", "authd base URL")
	fs.StringVar(&o.email, "email", "admin@seed.example", "admin email")
	fs.StringVar(&o.password, "password", "seed-admin-password", "admin password")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long to measure")
	fs.IntVar(&o.concurrency, "concurrency", 4, "workers")
	fs.IntVar(&o.limit, "limit", 50, "page size")
	fs.IntVar(&o.depth, "depth", 200, "pages a worker walks before starting over")
	if err := fs.Parse(args); err != nil {
		return err
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: o.concurrency}}
	body := fmt.Sprintf(`{"email":%q,"password":%q}`, o.email, o.password)
	resp, err := client.Post(o.target+"/v1/login", "application/json", strings.NewReader(body))
	if err != nil {
		return fmt.Errorf("admin login: %w", err)
	}
	var tk struct {
		Access string `json:"access_token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tk)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || tk.Access == "" {
		return fmt.Errorf("admin login: status %d: %v", resp.StatusCode, err)
	}
	ctx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	var mu sync.Mutex
	var lats []time.Duration
	var failures int
	var wg sync.WaitGroup
	for range o.concurrency {
		wg.Go(func() {
			var mine []time.Duration
			cursor, depth := "", 0
			for ctx.Err() == nil {
				q := url.Values{"limit": {fmt.Sprint(o.limit)}}
				if cursor != "" {
					q.Set("cursor", cursor)
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, o.target+"/v1/admin/users?"+q.Encode(), nil)
				req.Header.Set("Authorization", "Bearer "+tk.Access)
				start := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						mu.Lock()
						failures++
						mu.Unlock()
					}
					continue
				}
				var page struct {
					Next *string `json:"next_cursor"`
				}
				err = json.NewDecoder(resp.Body).Decode(&page)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK {
					mu.Lock()
					failures++
					mu.Unlock()
					cursor, depth = "", 0
					continue
				}
				mine = append(mine, time.Since(start))
				depth++
				if page.Next == nil || depth >= o.depth {
					cursor, depth = "", 0
				} else {
					cursor = *page.Next
				}
			}
			mu.Lock()
			lats = append(lats, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(lats) == 0 {
		return errors.New("no page answered 200")
	}
	slices.Sort(lats)
	pct := func(p float64) time.Duration { return lats[min(len(lats)-1, int(p*float64(len(lats))))] }
	fmt.Fprintf(stdout, "admin_users pages=%d failures=%d rate=%.1f/s p50=%s p99=%s (limit %d, depth %d, concurrency %d, %s)\n",
		len(lats), failures, float64(len(lats))/o.duration.Seconds(), pct(0.50).Round(10*time.Microsecond),
		pct(0.99).Round(10*time.Microsecond), o.limit, o.depth, o.concurrency, o.duration)
	return nil
}
