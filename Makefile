# imepipe — the two commands: `make demo` and `make test`.
GO      ?= go
BIN     := bin/imepipe
PKGS    := ./...

.PHONY: demo test build vet cross lint fuzz bench deps clean

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

## deps: what integration tests and benchmarks use beyond Go (Debian packages; needs root).
deps:
	@command -v nginx >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq nginx-light)
	@command -v unzip >/dev/null 2>&1 || apt-get install -y -qq unzip

clean:
	rm -rf bin
