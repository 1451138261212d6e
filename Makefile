# Top-level driver. `make run` and `make test` are the README's two commands.
BUILD      ?= build
BUILD_SAN  ?= build-asan
BUILD_FUZZ ?= build-fuzz
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all setup build build-asan run test test-normal test-asan bench experiments fuzz calibrate clean

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

# Fuzzing: every tests/fuzz/fuzz_*.c target, built with clang's libFuzzer
# (plus ASan/UBSan), runs FUZZ_SECONDS each from its seed corpus
# tests/fuzz/corpus/<name>/; new inputs go to $(BUILD_FUZZ)/corpus/<name>/,
# crashes to $(BUILD_FUZZ)/crash-*.
FUZZ_SECONDS ?= 60
fuzz:
	@bash scripts/setup --fuzz
	@cmake -S . -B $(BUILD_FUZZ) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DMEMVIRT_FUZZ=ON >/dev/null
	@cmake --build $(BUILD_FUZZ) -j $(JOBS) > $(BUILD_FUZZ)/build.log 2>&1 || { cat $(BUILD_FUZZ)/build.log; exit 1; }
	@set -e; for src in tests/fuzz/fuzz_*.c; do \
	  name=$$(basename $$src .c); mkdir -p $(BUILD_FUZZ)/corpus/$$name; \
	  seeds=; [ -d tests/fuzz/corpus/$$name ] && seeds=tests/fuzz/corpus/$$name; \
	  echo "== $$name: $(FUZZ_SECONDS) s =="; \
	  log=$(BUILD_FUZZ)/$$name.log; \
	  ( cd $(BUILD_FUZZ) && ./$${name}_fuzzer -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	      corpus/$$name $${seeds:+../$$seeds} ) > $$log 2>&1 || { tail -n 40 $$log; exit 1; }; \
	  grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' $$log || tail -n 3 $$log; \
	done

# Measure this host's costs into a profile (docs/cost-model.md).
PROFILE ?= profiles/this-host.profile
calibrate: build
	@./$(BUILD)/memvirt calibrate -o $(PROFILE)

clean:
	rm -rf $(BUILD) $(BUILD_SAN) $(BUILD_FUZZ)
