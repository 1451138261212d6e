# Top-level driver. `make run` and `make test` are the README's two commands.
BUILD      ?= build
BUILD_SAN  ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

BUILD_FUZZ ?= build-fuzz
FUZZ_SECONDS ?= 60

.PHONY: all setup build build-asan run test test-normal test-asan bench experiments clean fuzz-rerun

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

# libFuzzer on what `memvirt rerun` reads (tests/fuzz/fuzz_rerun.c), for
# FUZZ_SECONDS, from a copy of the seed corpus; a crash leaves its input in
# $(BUILD_FUZZ)/ (keep it as a regression test).
$(BUILD_FUZZ)/Makefile: CMakeLists.txt
	@bash scripts/setup fuzz
	@CC=clang cmake -S . -B $(BUILD_FUZZ) -DCMAKE_BUILD_TYPE=Debug -DMEMVIRT_FUZZ=ON >/dev/null

fuzz-rerun: $(BUILD_FUZZ)/Makefile
	@cmake --build $(BUILD_FUZZ) -j $(JOBS) --target fuzz_rerun > $(BUILD_FUZZ)/build.log 2>&1 || { cat $(BUILD_FUZZ)/build.log; exit 1; }
	@mkdir -p $(BUILD_FUZZ)/corpus_rerun && cp -n tests/fuzz/corpus_rerun/* $(BUILD_FUZZ)/corpus_rerun/
	@cd $(BUILD_FUZZ) && ./fuzz_rerun -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -artifact_prefix=./ \
	  -dict=../tests/fuzz/rerun.dict corpus_rerun 2>fuzz_rerun.log; rc=$$?; tail -n 3 fuzz_rerun.log; exit $$rc

clean:
	rm -rf $(BUILD) $(BUILD_SAN) $(BUILD_FUZZ)
