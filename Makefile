# imepipe — the two commands: `make demo` and `make test`.
GO      ?= go
BIN     := bin/imepipe
PKGS    := ./...

.PHONY: demo demo-windows test test-windows build vet cross lint fuzz bench deps deps-windows clean

## demo: build and run the first-run demo on loopback (no set-up).
demo: build
	./$(BIN) demo

## test: vet, the cross-compile gate, and all tests (integration tests skip with a
## message when nginx is absent).
test: vet cross
	$(GO) test -count=1 -timeout 15m $(PKGS)

vet:
	$(GO) vet $(PKGS)

## cross: the tree vets and builds for Windows and macOS. This proves the Windows code
## (the Job Object reaper) compiles and vets; it does not run it.
cross:
	GOOS=windows GOARCH=amd64 $(GO) vet $(PKGS)
	GOOS=windows GOARCH=arm64 $(GO) build $(PKGS)
	GOOS=darwin GOARCH=arm64 $(GO) build $(PKGS)

## lint: staticcheck (pinned; fetched through the Go module proxy on first use).
lint:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.6.1 $(PKGS)

build:
	$(GO) build -o $(BIN) ./cmd/imepipe

## fuzz: run every fuzz target in the tree for FUZZTIME each (default 20s).
FUZZTIME ?= 20s
fuzz:
	@grep -r --include='*_test.go' -o '^func Fuzz[A-Za-z0-9_]*' . | sed 's/:func / /' | \
	while read file name; do \
		echo "== $$name ($$(dirname $$file))"; \
		$(GO) test "./$$(dirname $$file)" -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) || exit 1; \
	done

## bench: the testing.B benchmarks of the hot paths.
bench:
	$(GO) test -run '^$$' -bench . -benchtime 3x $(PKGS)

## deps: what integration tests and benchmarks use beyond Go (Debian packages; needs root):
## nginx, unzip, chromium (the console's browser test, internal/consoletest) and PostgreSQL (the
## store tests run a private cluster; bench service).
deps:
	@command -v nginx >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq nginx-light)
	@command -v unzip >/dev/null 2>&1 || apt-get install -y -qq unzip
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium)
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql)

## deps-windows: what test-windows needs (Debian packages; needs root): Wine 8, the
## mingw-w64 C compiler (for the ProcessPrng stand-in DLL), wixl (MSI builds) and
## jq (the MSI end to end reads the agent's status JSON).
deps-windows:
	@command -v wine >/dev/null 2>&1 && command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 && \
		command -v wixl >/dev/null 2>&1 && command -v jq >/dev/null 2>&1 || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			wine64 gcc-mingw-w64-x86-64 wixl jq)

## test-windows: build every package's tests for windows/amd64 and run them under
## Wine in a headless prefix (scripts/windows/test.sh; installs its tools first when
## run as root). Prints tests run/passed/failed/skipped per package and every skip.
test-windows:
	@if [ "$$(id -u)" = 0 ]; then $(MAKE) --no-print-directory deps-windows; fi
	GO=$(GO) ./scripts/windows/test.sh $(PKGS)

## demo-windows: the MSI end to end under Wine: a wixl-built MSI packed by
## imepipe pack, served by imepipe serve on loopback, installed, detected by
## product code and uninstalled by imepipe.exe agent --once under Wine
## (scripts/windows/e2e-msi.sh; installs its tools first when run as root).
demo-windows:
	@if [ "$$(id -u)" = 0 ]; then $(MAKE) --no-print-directory deps-windows; fi
	GO=$(GO) ./scripts/windows/e2e-msi.sh bin/demo-windows

clean:
	rm -rf bin
