# Front end for the meson build. On Debian 12 as root, `make demo` and
# `make test` install what is missing, build, and run.
BUILD ?= build
MESON_TEST_ARGS ?=

PERF_BUILD ?= build-perf

.PHONY: all deps build perf-build retrain hugepages demo test test-long bench perf-check install clean

all: build

deps:
	@scripts/deps.sh

# -O3, link-time optimisation and profile feedback from a training run
# over the project's captures (scripts/build.sh; SMBGW_PGO=0 skips it).
build: deps
	@scripts/build.sh $(BUILD)

# Trains again on the next build, after changes to the packet path.
retrain:
	rm -f $(BUILD)/pgo-trained $(PERF_BUILD)/pgo-trained

hugepages:
	@scripts/hugepages.sh

demo: build hugepages
	@scripts/demo.sh $(BUILD)/app/smbgw

test: build hugepages
	@scripts/run_tests.sh $(BUILD) $(PERF_BUILD) $(MESON_TEST_ARGS)

# Instructions per frame under callgrind against the committed baseline:
# fails when the fast path grows by more than 10%. Its own build, for any
# x86-64 (callgrind cannot run AVX-512 code), trained as the main one.
perf-build: deps
	@scripts/build.sh $(PERF_BUILD) -Dnative=false -Dtests=false

perf-check: perf-build
	tests/bench/callgrind_check.sh $(PERF_BUILD)/app/smbgw

# Soak and long fuzz runs: minutes to hours.
test-long: build hugepages
	meson configure $(BUILD) -Dlong_tests=true
	meson test -C $(BUILD) --print-errorlogs --timeout-multiplier 20 $(MESON_TEST_ARGS)
	meson configure $(BUILD) -Dlong_tests=false

# Every benchmark runs even when one before it fails (a target missed, as
# the 1M-session memory check may say); make fails at the end if any did.
bench: build hugepages perf-check
	status=0; \
	meson test -C $(BUILD) --benchmark --print-errorlogs --no-suite live || status=1; \
	scripts/bench_stream.sh $(PERF_BUILD)/app/smbgw || status=1; \
	scripts/bench.sh $(BUILD) || status=1; \
	scripts/bench_scale.sh $(BUILD) || status=1; \
	scripts/bench_restart.sh $(BUILD) || status=1; \
	exit $$status

# Binaries, the systemd unit and (when absent) a sample configuration;
# scripts/install.sh says where. PREFIX and DESTDIR are honoured.
PREFIX ?= /usr/local
install: build
	@BUILD=$(BUILD) PREFIX=$(PREFIX) DESTDIR=$(DESTDIR) scripts/install.sh

clean:
	rm -rf $(BUILD) $(PERF_BUILD)
