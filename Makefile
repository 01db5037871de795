# The two commands of the README: `make run` and `make test`.
GO ?= go
export GOFLAGS ?= -buildvcs=false

.PHONY: run test build lint bench fmt screenshots

run: ## run groupd on 127.0.0.1:8080 (managed PostgreSQL in ./var unless GROUPD_DATABASE_URL is set)
	@./scripts/ensure-postgres
	$(GO) run ./cmd/groupd

test: ## the whole test suite, race detector on, against a real PostgreSQL (and Chromium for the console)
	@./scripts/ensure-postgres --always
	@./scripts/ensure-chromium
	$(GO) test -race -count=1 ./...

build:
	$(GO) build -o bin/ ./cmd/...

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

bench: ## micro-benchmarks (ratios against floors measured in the same run)
	@./scripts/ensure-postgres --always
	$(GO) test -run '^$$' -bench . -benchmem ./...

screenshots: ## the admin console's screenshots, docs/console/*.png, taken by its browser test
	@./scripts/ensure-postgres --always
	@./scripts/ensure-chromium
	GROUPD_SCREENSHOTS=1 $(GO) test -count=1 -run '^TestConsoleBrowser$$' -v ./integration/
