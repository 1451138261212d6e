# Top-level driver. `make run` and `make test` are the README's two commands.
SHELL := /bin/bash
BUILD      ?= build
BUILD_SAN  ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all setup build build-asan run test test-normal test-asan bench experiments clean fuzz

all: build

setup:
	@bash scripts/setup

$(BUILD)/Makefile: CMakeLists.txt
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

$(BUILD_SAN)/Makefile: CMakeLists.txt
	@cmake -S . -B $(BUILD_SAN) -DCMAKE_BUILD_TYPE=Debug -DMEMVIRT_SANITIZE=ON >/dev/null

# The build's progress goes to a log, shown only if the build fails.
build: setup $(BUILD)/Makefile
	@cmake --build $(BUILD) -j $(JOBS) > $(BUILD)/build.log 2>&1 || { cat $(BUILD)/build.log; exit 1; }

build-asan: setup $(BUILD_SAN)/Makefile
	@cmake --build $(BUILD_SAN) -j $(JOBS) > $(BUILD_SAN)/build.log 2>&1 || { cat $(BUILD_SAN)/build.log; exit 1; }

# The main comparison: every mode on the embedded default workload (the
# PiBooster paper's process churn, 30 simulated minutes).
MODES    ?= native,pv,pv-pibooster
WORKLOAD ?= forkstorm
run: build
	@./$(BUILD)/memvirt compare --modes $(MODES) --workload $(WORKLOAD)

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

experiments: build
	@experiments/pibooster.sh

# Fuzzing: every tests/fuzz/fuzz_<name>.c is a libFuzzer target (clang); each
# runs FUZZ_SECONDS from its seed corpus (tests/fuzz/corpus/<name>) into a
# working corpus in $(BUILD_FUZZ). Findings land in $(BUILD_FUZZ)/findings/:
# fix them and keep each in tests/fuzz/regressions/<name>/ (make test replays
# those). A new target is a new file.
BUILD_FUZZ   ?= build-fuzz
FUZZ_SECONDS ?= 60
$(BUILD_FUZZ)/Makefile: CMakeLists.txt
	@CC=clang cmake -S . -B $(BUILD_FUZZ) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMEMVIRT_FUZZ=ON >/dev/null

FUZZ_TARGETS = $(basename $(notdir $(wildcard tests/fuzz/fuzz_*.c)))
fuzz: setup $(BUILD_FUZZ)/Makefile
	@cmake --build $(BUILD_FUZZ) -j $(JOBS) --target $(FUZZ_TARGETS) > $(BUILD_FUZZ)/build.log 2>&1 \
	  || { cat $(BUILD_FUZZ)/build.log; exit 1; }
	@mkdir -p $(BUILD_FUZZ)/findings
	@for src in tests/fuzz/fuzz_*.c; do \
	  t=$$(basename $$src .c); n=$${t#fuzz_}; \
	  mkdir -p $(BUILD_FUZZ)/corpus/$$n; \
	  echo "== $$t: $(FUZZ_SECONDS) s =="; \
	  $(BUILD_FUZZ)/$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=$(BUILD_FUZZ)/findings/$$n- \
	    $(BUILD_FUZZ)/corpus/$$n tests/fuzz/corpus/$$n 2>&1 | grep -E "^(stat::number_of_executed_units|stat::peak_rss|==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written)" ; \
	  status=$${PIPESTATUS[0]}; [ "$$status" -eq 0 ] || { echo "$$t found a failure (see $(BUILD_FUZZ)/findings)"; exit 1; }; \
	done

clean:
	rm -rf $(BUILD) $(BUILD_SAN) $(BUILD_FUZZ)
