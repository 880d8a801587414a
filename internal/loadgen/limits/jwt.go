package limits

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authd/authd/pkg/token"
)

// JWT is the verification bound: raw golang-jwt ParseWithClaims of an
// access token shaped like authd's, on every CPU.
type JWT struct {
	Alg     string        `json:"alg"`
	Workers int           `json:"workers"`
	Ops     int64         `json:"verifications"`
	Elapsed time.Duration `json:"elapsed_ns"`
	// CPUPerOp is the process CPU time per verification (0 where not
	// measured): unlike Rate, other processes do not lower it.
	CPUPerOp time.Duration `json:"cpu_per_verification_ns"`
}

// Rate returns verifications per second.
func (j JWT) Rate() float64 { return perSecond(float64(j.Ops), j.Elapsed) }

// Basis describes the bound for a report.
func (j JWT) Basis() string {
	return fmt.Sprintf("golang-jwt %s verify on %d CPUs", j.Alg, j.Workers)
}

// MeasureJWT verifies one token of algorithm alg from runtime.NumCPU()
// goroutines for d or maxOps verifications (0: no count bound), with the
// parser options pkg/token uses (strict base64, pinned algorithm, iss,
// aud, exp required, iat, leeway) and a key function that checks typ and
// kid: the floor any verifier of authd's tokens stands on.
func MeasureJWT(ctx context.Context, alg string, d time.Duration, maxOps int64) (JWT, error) {
	if d <= 0 {
		return JWT{}, fmt.Errorf("jwt bound: duration %s must be positive", d)
	}
	k, err := token.GenerateKey(alg)
	if err != nil {
		return JWT{}, err
	}
	const issuer = "http://localhost:8080"
	now := time.Now()
	raw, err := token.Sign(k, token.TypeAccess, &token.Payload{
		RegisteredClaims: token.RegisteredClaims{
			Issuer: issuer, Subject: "0f8fad5b-d9cb-469f-a165-70867728950e", Audience: token.ClaimStrings{issuer},
			ExpiresAt: token.NewNumericDate(now.Add(time.Hour)), IssuedAt: token.NewNumericDate(now),
			ID: "7c9e6679-7425-40de-944b-e07fc1f90ae7",
		},
		SessionID: "16fd2706-8baf-433b-82eb-8c7fada847da", ClientID: "authd", Roles: []string{"user"},
	})
	if err != nil {
		return JWT{}, err
	}
	p := jwt.NewParser(
		jwt.WithStrictDecoding(),
		jwt.WithValidMethods([]string{alg}),
		jwt.WithIssuer(issuer),
		jwt.WithAudience(issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(5*time.Second),
	)
	keyfunc := func(t *jwt.Token) (any, error) {
		if typ, _ := t.Header["typ"].(string); typ != token.TypeAccess {
			return nil, jwt.ErrTokenUnverifiable
		}
		if kid, _ := t.Header["kid"].(string); kid != k.ID {
			return nil, jwt.ErrTokenUnverifiable
		}
		return k.Public, nil
	}
	verify := func() error {
		var c struct {
			jwt.RegisteredClaims // shallower: takes the registered claims
			token.Payload
		}
		_, err := p.ParseWithClaims(raw, &c, keyfunc)
		return err
	}
	if err := verify(); err != nil {
		return JWT{}, fmt.Errorf("jwt bound: own token refused: %w", err)
	}

	workers := runtime.NumCPU()
	var ops atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	cpu0 := processCPU()
	start := time.Now()
	deadline := start.Add(d)
	for range workers {
		wg.Go(func() {
			for i := 0; ; i++ {
				if i%16 == 0 && (ctx.Err() != nil || time.Now().After(deadline)) {
					return
				}
				if maxOps > 0 && ops.Load() >= maxOps {
					return
				}
				if err := verify(); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				ops.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := processCPU() - cpu0
	if firstErr != nil {
		return JWT{}, firstErr
	}
	if err := ctx.Err(); err != nil {
		return JWT{}, err
	}
	j := JWT{Alg: alg, Workers: workers, Ops: ops.Load(), Elapsed: elapsed}
	if j.Ops > 0 {
		j.CPUPerOp = cpu / time.Duration(j.Ops)
	}
	return j, nil
}
