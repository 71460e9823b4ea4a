# Front end for the meson build. On Debian 12 as root, `make demo` and
# `make test` install what is missing, build, and run.
BUILD ?= build
MESON_TEST_ARGS ?=

.PHONY: all deps build hugepages demo test test-long bench clean

all: build

deps:
	@scripts/deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

hugepages:
	@scripts/hugepages.sh

demo: build hugepages
	@scripts/demo.sh $(BUILD)/app/smbgw

test: build hugepages
	meson test -C $(BUILD) --print-errorlogs $(MESON_TEST_ARGS)

# Soak and long fuzz runs: minutes to hours.
test-long: build hugepages
	meson configure $(BUILD) -Dlong_tests=true
	meson test -C $(BUILD) --print-errorlogs --timeout-multiplier 20 $(MESON_TEST_ARGS)
	meson configure $(BUILD) -Dlong_tests=false

bench: build hugepages
	meson test -C $(BUILD) --benchmark --print-errorlogs

clean:
	rm -rf $(BUILD)
