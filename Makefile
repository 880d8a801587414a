# The README's two commands: `go run ./cmd/authd` and `make test`.
GO ?= go

.PHONY: test build run vet bench-go

## test: every test, with the race detector (needs Postgres and Redis for the
## backend suites; without them those tests skip with a reason unless
## AUTHD_TEST_REQUIRE_SERVICES=1).
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m ./...
	cd deployments && $(GO) test -count=1 ./...   # manifests: a module of its own, so Kubernetes types stay out of authd

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/authd ./cmd/authd

run:
	$(GO) run ./cmd/authd

## bench-go: the Go benchmarks of tokens, denylist and store.
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./pkg/... | tee bench.out
