# Top-level driver. `make run` and `make test` are the README's two commands.
SHELL := /bin/bash
BUILD      ?= build
BUILD_SAN  ?= build-asan
BUILD_FUZZ ?= build-fuzz
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

FUZZ_SECONDS ?= 60

.PHONY: all setup build build-memvirt build-asan run test test-normal test-asan bench golden experiments figures fuzz calibrate clean

all: build

setup:
	@bash scripts/setup

$(BUILD)/Makefile: CMakeLists.txt | setup
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

$(BUILD_SAN)/Makefile: CMakeLists.txt | setup
	@cmake -S . -B $(BUILD_SAN) -DCMAKE_BUILD_TYPE=Debug -DMEMVIRT_SANITIZE=ON >/dev/null

# The build's progress goes to a log, shown only if the build fails.
build: setup $(BUILD)/Makefile
	@cmake --build $(BUILD) -j $(JOBS) > $(BUILD)/build.log 2>&1 || { cat $(BUILD)/build.log; exit 1; }

# Only the simulator itself, for `make run`: the tests, fuzzers and bench
# are half of a fresh build's time and the comparison needs none of them.
build-memvirt: setup $(BUILD)/Makefile
	@cmake --build $(BUILD) -j $(JOBS) --target memvirt > $(BUILD)/build.log 2>&1 || { cat $(BUILD)/build.log; exit 1; }

build-asan: setup $(BUILD_SAN)/Makefile
	@cmake --build $(BUILD_SAN) -j $(JOBS) > $(BUILD_SAN)/build.log 2>&1 || { cat $(BUILD_SAN)/build.log; exit 1; }

# The main comparison: every mode on the embedded default workload (the
# PiBooster paper's process churn, 30 simulated minutes). MODES=a,b picks some
# (default: every mode in the registry, so a new mode joins by itself).
MODES    ?=
WORKLOAD ?= forkstorm
run: build-memvirt
	@./$(BUILD)/memvirt compare $(if $(MODES),--modes $(MODES)) --workload $(WORKLOAD)

test: test-normal test-asan

test-normal: build
	@echo "== tests (normal build) =="
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: build-asan
	@echo "== tests (AddressSanitizer + UndefinedBehaviorSanitizer build) =="
	@cd $(BUILD_SAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

bench: build
	@./$(BUILD)/bench_speed

# Rewrite the golden results (tests/golden/) that keep statistics exact.
# Only on purpose, when a change is meant to alter results: never automatic.
golden: build
	@scripts/golden regenerate ./$(BUILD)/memvirt

experiments: build
	@experiments/pibooster.sh

# Every figure of docs/figures.md, drawn from fresh runs (a few minutes).
figures: build
	@/usr/bin/python3 src/py/figures.py --memvirt ./$(BUILD)/memvirt --runs $(BUILD)/figures --out docs/figures

# libFuzzer (clang, ASan, UBSan) on every target tests/fuzz/fuzz_*.c, each for
# FUZZ_SECONDS, from a copy of its seed corpus and kept findings; FUZZ=NAME runs
# one. scripts/fuzz configures $(BUILD_FUZZ) (again if it was configured
# otherwise) and rebuilds what changed. A crash leaves its input in
# $(BUILD_FUZZ)/findings/: fix it, then keep it in tests/fuzz/regressions/NAME/
# (make test replays those).
fuzz:
	@bash scripts/fuzz $(BUILD_FUZZ) $(FUZZ_SECONDS) $(FUZZ)

# Measure this host's costs into a profile (docs/cost-model.md).
PROFILE ?= profiles/this-host.profile
calibrate: build
	@./$(BUILD)/memvirt calibrate -o $(PROFILE)

clean:
	rm -rf $(BUILD) $(BUILD_SAN) $(BUILD_FUZZ)
