# Two commands for a new user (see README): `make run` and `make test`. Everything else is for developers.
.PHONY: all deps build run test test-unit test-integration asan tsan test-asan test-tsan test-portable check-includes fuzz bench clean

JOBS ?= $(shell nproc)

all: build

deps:
	@scripts/install-deps.sh build

build: deps
	@cmake --preset release -DBUILD_TESTING=ON >/dev/null
	@cmake --build --preset release -j $(JOBS)

# Builds, then starts `sluice sim` (a local DeepSeek stand-in, no internet needed) and the gateway in front of it.
run: build
	@scripts/run-local.sh

tests/integration/node_modules: tests/integration/package.json
	@cd tests/integration && npm install --no-audit --no-fund --loglevel=error
	@touch $@

test: build
	@scripts/install-deps.sh test
	@$(MAKE) --no-print-directory tests/integration/node_modules
	@ctest --preset release -j 1

test-asan:
	@scripts/install-deps.sh test
	@$(MAKE) --no-print-directory tests/integration/node_modules
	@cmake --preset asan -DBUILD_TESTING=ON >/dev/null
	@cmake --build --preset asan -j $(JOBS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --preset asan -j 1

test-tsan:
	@scripts/install-deps.sh test
	@$(MAKE) --no-print-directory tests/integration/node_modules
	@cmake --preset tsan -DBUILD_TESTING=ON >/dev/null
	@cmake --build --preset tsan -j $(JOBS)
	@TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 ctest --preset tsan -j 1

# The portable I/O fallback (src/http/ready_read.h), built and tested as a Boost upgrade would build it.
test-portable:
	@scripts/install-deps.sh test
	@$(MAKE) --no-print-directory tests/integration/node_modules
	@cmake --preset portable -DBUILD_TESTING=ON >/dev/null
	@cmake --build --preset portable -j $(JOBS)
	@ctest --preset portable -j 1

check-includes:
	@scripts/check-includes.sh

# libFuzzer targets (clang-14, ASan + UBSan), each run 15 s over its seed corpus (docs/security.md, "Fuzzing").
fuzz:
	@scripts/fuzz.sh ci

bench: build
	@scripts/install-deps.sh bench
	@bench/proxy_vs_nginx.sh

clean:
	rm -rf build build-debug build-asan build-tsan build-portable build-fuzz
