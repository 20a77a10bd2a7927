# Thin wrapper over CMake for the README's two commands (make demo, make check)
# and a few more. The real build is CMakeLists.txt.

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 10
CTEST      = ctest --output-on-failure --no-tests=error
STACK      = deploy/local/stack

.PHONY: all deps build check unit asan fuzz-short fuzz stack-up cli e2e demo bench clean

all: build

deps:
	@bash .ci/install-deps

build:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

unit: build
	cd $(BUILD) && $(CTEST) -L unit

asan:
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSKY_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $(CTEST) -L unit


# Each fuzz target for FUZZ_SECONDS on a copy of its seed corpus.
FUZZ_TARGETS = $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))

fuzz-short:
	@CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSKY_FUZZ=ON -DSKY_SANITIZE=ON \
	  -DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target $(FUZZ_TARGETS)
	@for name in $(FUZZ_TARGETS); do t=$(FUZZ_BUILD)/$$name; \
	  corpus=$(FUZZ_BUILD)/corpus/$${name#fuzz_}; \
	  mkdir -p $$corpus; cp -n tests/fuzz/corpus/$${name#fuzz_}/* $$corpus/ 2>/dev/null || true; \
	  echo "fuzz: $$name for $(FUZZ_SECONDS)s"; \
	  $$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 -artifact_prefix=$(FUZZ_BUILD)/ $$corpus >$(FUZZ_BUILD)/$$name.log 2>&1 \
	    || { tail -40 $(FUZZ_BUILD)/$$name.log; exit 1; }; \
	done

fuzz:
	$(MAKE) fuzz-short FUZZ_SECONDS=600

stack-up:
	@$(STACK) up

cli: build
	cd $(BUILD) && $(CTEST) -L cli

e2e: build stack-up
	cd $(BUILD) && $(CTEST) -L e2e

# The README's test command: everything, the real stack included.
check: deps build
	cd $(BUILD) && $(CTEST) -L 'unit|cli'
	$(MAKE) asan
	$(MAKE) fuzz-short
	$(MAKE) e2e
	@echo "make check: all passed"

# The README's first command: install, build, start the stack, run the smoke
# scenario end to end and print the verify report.
demo: deps build stack-up
	@bash scripts/demo.sh

bench: deps build stack-up
	@bash bench/run-all.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
