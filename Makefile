# The README's two commands: `go run ./cmd/authd` and `make test`.
GO ?= go

.PHONY: test build run vet bench-go

## test: every test, with the race detector (needs Postgres and Redis for the
## backend suites; without them those tests skip with a reason unless
## AUTHD_TEST_REQUIRE_SERVICES=1).
test:
	scripts/check-no-binaries.sh   # built executables are never committed
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 45m ./...   # internal/e2e, every flow on four backends under -race, is the long pole (~25 min on 2 CPUs)
	$(GO) test -count=1 -run '^TestLoginTimingDoesNotRevealAccounts$$' ./internal/e2e   # timing medians, without -race (it slows bcrypt tenfold)
	cd deployments && $(GO) test -count=1 ./...   # manifests: a module of its own, so Kubernetes types stay out of authd
	cd pkg/store/mongostore/ferrettest && $(GO) vet ./... && env -u AUTHD_TEST_MONGODB_URL $(GO) test -count=1 ./...   # storetest on embedded FerretDB (the e2e suite uses AUTHD_TEST_MONGODB_URL): a module of its own, so FerretDB stays out of authd

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/authd ./cmd/authd

run:
	$(GO) run ./cmd/authd

## bench: authd under load on Postgres + Redis and on the embedded default,
## each result a ratio to the machine's limits (docs/benchmarks.md).
.PHONY: bench
bench:
	scripts/bench.sh

## bench-go: every Go benchmark of pkg/ and internal/, 6 runs, benchstat.
bench-go:
	scripts/bench-go.sh

## fuzz: each fuzz target for FUZZTIME (default 15s), one after another (go
## test -fuzz takes one target at a time). Seeds: f.Add in the tests and the
## committed corpora in testdata/fuzz/<Target>/; a failing input is written
## there too, to commit with the fix.
FUZZTIME ?= 15s
FUZZ_TARGETS = ./pkg/token:FuzzVerify ./pkg/token:FuzzParseJWKS \
	./pkg/middleware:FuzzBearerToken ./pkg/middleware:FuzzCacheTTL ./pkg/denylist:FuzzParseEvent \
	./internal/httpapi:FuzzStrictUnmarshal ./internal/httpapi:FuzzDecodeForm \
	./internal/auth:FuzzNormalizeEmail ./internal/auth:FuzzDecodeCursor ./pkg/store:FuzzValidateRole \
	./pkg/redisurl:FuzzParse
.PHONY: fuzz
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "== fuzz $$name in $$pkg for $(FUZZTIME)"; \
		GO=$(GO) scripts/fuzz-one.sh $$pkg $$name $(FUZZTIME) || exit 1; \
	done
