# Top-level driver. `make run` and `make test` are the README's two commands.
BUILD      ?= build
BUILD_SAN  ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all setup build build-asan run test test-normal test-asan bench experiments figures fuzz clean

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
# PiBooster paper's process churn, 30 simulated minutes). MODES=a,b picks some.
MODES    ?= native,pv,pv-pibooster,tsp,ssp,hap
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

# Every figure of docs/figures.md, drawn from fresh runs (a few minutes).
figures: build
	@/usr/bin/python3 src/py/figures.py --memvirt ./$(BUILD)/memvirt --runs $(BUILD)/figures --out docs/figures

# Fuzzing: every tests/fuzz/fuzz_<name>.c is a libFuzzer target (clang, ASan,
# UBSan), run FUZZ_SECONDS each. The core is compiled once, with coverage, into
# build-fuzz/obj. Each target's working corpus build-fuzz/corpus/<name> starts
# from its seeds, tests/fuzz/corpus/<name>/ (or the flat tests/fuzz/corpus/
# files), with the extra libFuzzer flags of tests/fuzz/fuzz_<name>.options if
# any; a failure's input lands in build-fuzz/ (crash-*, leak-*, timeout-*):
# fix it and keep it as a named regression test.
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_FLAGS   = -std=gnu11 -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
               -fsanitize-coverage-ignorelist=tests/fuzz/coverage.ignore \
               -fno-sanitize-recover=all -DMEMVIRT_LIBFUZZER -Isrc -MMD -MP
CORE_SRC     = $(shell find src/lib src/hw src/guest src/hv src/sim src/workload -name '*.c')
FUZZ_OBJ     = $(patsubst %.c,build-fuzz/obj/%.o,$(CORE_SRC))
FUZZ_TARGETS = $(patsubst tests/fuzz/%.c,build-fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
-include $(FUZZ_OBJ:.o=.d)
.SECONDARY: $(FUZZ_OBJ)

build-fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(FUZZ_CC) $(FUZZ_FLAGS) -c $< -o $@

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJ)
	@$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer $< $(FUZZ_OBJ) -lm -lpthread -o $@

fuzz:
	@bash scripts/setup fuzz
	@$(MAKE) --no-print-directory -s -j $(JOBS) $(FUZZ_TARGETS)
	@set -e; for t in $(FUZZ_TARGETS); do \
	  n=$${t#build-fuzz/fuzz_}; seeds=tests/fuzz/corpus/$$n; work=build-fuzz/corpus/$$n; \
	  mkdir -p $$work; \
	  if [ -d $$seeds ]; then cp -n $$seeds/* $$work/ 2>/dev/null || true; \
	  else find tests/fuzz/corpus -maxdepth 1 -type f -exec cp -n {} $$work/ \; ; fi; \
	  echo "== fuzz_$$n: $(FUZZ_SECONDS) s =="; \
	  opts=$$(cat tests/fuzz/fuzz_$$n.options 2>/dev/null || true); \
	  ./$$t -max_total_time=$(FUZZ_SECONDS) -max_len=4096 $$opts -print_final_stats=1 -artifact_prefix=build-fuzz/ \
	    $$work > build-fuzz/fuzz_$$n.log 2>&1 || { tail -n 40 build-fuzz/fuzz_$$n.log; exit 1; }; \
	  grep -E '^stat::(number_of_executed_units|peak_rss_mb)' build-fuzz/fuzz_$$n.log; \
	done

clean:
	rm -rf $(BUILD) $(BUILD_SAN) build-fuzz
