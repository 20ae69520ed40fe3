# Veil — common tasks. `make demo` and `make test` work on a fresh machine (they install the
# Debian packages Veil links against first).
SHELL := /bin/bash
DEBIAN_PACKAGES := libopenblas-dev libgsl-dev libsqlite3-dev sqlite3 zlib1g-dev dataset-fashion-mnist openssl curl python3
# The PostgreSQL tests run against a throw-away server (scripts/with-postgres.sh); only `make test` installs it.
TEST_PACKAGES := postgresql
# The query service's browser test drives Debian's chromium (installed by `make browser-test` only).
BROWSER_PACKAGES := chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
RELEASE_BIN := .build/release

.PHONY: deps build release test test-release browser-test fuzz demo bench bench-swift bench-python clean

# install_missing: apt-get install those of the packages $(1) that are not installed yet
define install_missing
@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "system packages present: $(1)"; fi
endef

## deps: install the Debian packages Veil needs, when they are missing
deps:
	$(call install_missing,$(DEBIAN_PACKAGES))

build: deps
	swift build

release: deps
	swift build -c release --product veil
	swift build -c release --product veil-bench

## test: the whole test suite (with a throw-away PostgreSQL server on loopback for the PostgreSQL tests)
test: deps
	$(call install_missing,$(TEST_PACKAGES))
	bash scripts/with-postgres.sh swift test

## test-release: the suite on the optimised build (runs the accountants' full reference sets)
test-release: deps
	$(call install_missing,$(TEST_PACKAGES))
	bash scripts/with-postgres.sh swift test -c release

## browser-test: the query service's web console in headless chromium (screenshot: docs/images/service-console.png)
browser-test: build
	$(call install_missing,$(BROWSER_PACKAGES))
	bash scripts/browser_test.sh .build/debug/veil

## fuzz: every libFuzzer harness for FUZZ_SECONDS (default 30) seconds (docs/fuzzing.md)
FUZZ_SECONDS ?= 30
fuzz: deps
	bash scripts/fuzz.sh all $(FUZZ_SECONDS)

## demo: the main job on the embedded defaults
demo: release
	@bash scripts/demo.sh $(RELEASE_BIN)/veil

## bench: every benchmark, one JSON object per area (Veil, then the Python reference libraries)
bench: release
	@bash scripts/bench.sh $(RELEASE_BIN)/veil-bench

clean:
	rm -rf .build
