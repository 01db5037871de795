# The two commands of the README: `make run` and `make test`.
GO ?= go
export GOFLAGS ?= -buildvcs=false

.PHONY: run test build lint bench bench-large bench-micro fmt screenshots

run: ## run groupd on 127.0.0.1:8080 (managed PostgreSQL in ./var unless GROUPD_DATABASE_URL is set)
	@./scripts/ensure-postgres
	$(GO) run ./cmd/groupd

test: ## the whole test suite, race detector on, against a real PostgreSQL (and Chromium for the console)
	@./scripts/ensure-postgres --always
	@./scripts/ensure-chromium
	@./scripts/ensure-node-deps
	$(GO) test -race -count=1 -timeout 30m ./...
	@# the 20,000-item import at full size: under -race the same test runs on 2,000 items
	$(GO) test -count=1 -run '^TestImport20000$$' ./cmd/groupctl

build:
	$(GO) build -o bin/ ./cmd/...

# The linters at pinned versions, installed into bin/lint from the Go module
# proxy (GOFLAGS cleared: `go install pkg@version` builds outside this module).
STATICCHECK_VERSION = v0.8.2
SHADOW_VERSION = v0.52.0
LINT_BIN = $(CURDIR)/bin/lint

lint: ## gofmt, go vet, go vet's shadow analyzer and staticcheck, all clean
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	GOFLAGS= GOBIN=$(LINT_BIN) $(GO) install golang.org/x/tools/go/analysis/passes/shadow/cmd/shadow@$(SHADOW_VERSION)
	GOFLAGS= GOBIN=$(LINT_BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	$(GO) vet -vettool=$(LINT_BIN)/shadow ./...
	$(LINT_BIN)/staticcheck ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

bench: ## the load benchmark at small scale (10^3 groups, under 3 minutes): one table, ratios to floors of the same run
	@./scripts/ensure-postgres --always
	$(GO) run ./cmd/groupbench -scale=small

bench-large: ## the load benchmark at large scale (10^5 groups, 10^6 ACL entries); writes docs/benchmarks.md and docs/bench.svg
	@./scripts/ensure-postgres --always
	$(GO) run ./cmd/groupbench -scale=large -write

bench-micro: ## the Go micro-benchmarks (policy Enforce, memberships), with their own floors
	@./scripts/ensure-postgres --always
	$(GO) test -run '^$$' -bench . -benchmem ./policy ./user

screenshots: ## the admin console's screenshots, docs/console/*.png, taken by its browser test
	@./scripts/ensure-postgres --always
	@./scripts/ensure-chromium
	GROUPD_SCREENSHOTS=1 $(GO) test -count=1 -run '^(TestConsoleBrowser|TestConsoleEdits|TestConsoleUsers)$$' -v ./integration/

# Go native fuzzing of every request decoder and of the checks that turn client strings into SQL parameters,
# FUZZTIME each (seed corpora run in `make test`).
FUZZTIME ?= 60s
FUZZ_TARGETS = ./group:FuzzDecodeBody ./user:FuzzDecodeBody ./user:FuzzDecodeMembers ./acl:FuzzDecode \
	./acl:FuzzDecodeRef ./rights:FuzzDecodeSystemRights ./rights:FuzzDecodeACLRights ./session:FuzzReadParams \
	./input:FuzzSQLParameters

.PHONY: fuzz
fuzz: ## fuzz each request decoder for FUZZTIME (60s)
	@./scripts/ensure-postgres --always
	@for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; fn=$${t##*:}; echo "== $$fn ($$pkg)"; \
		$(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; done

.PHONY: test-long
test-long: ## the long variants of the fault tests (1,000 propagation changes, 100 listener cuts)
	@./scripts/ensure-postgres --always
	$(GO) test -tags long -race -count=1 -run 'Long$$' -v ./integration/

SOAK ?= 30m
.PHONY: soak
soak: ## the mixed load at half capacity for SOAK (30m): RSS, goroutines, connections, p99 flat; zero 5xx
	@./scripts/ensure-postgres --always
	$(GO) run ./cmd/groupbench -soak $(SOAK)
