# The README's commands.  Everything goes through CMake; this file only
# names the builds.
#
#   make run    install what is missing, build, start syncd with demo data
#               and play a short scripted scenario
#   make test   install what is missing, build under ASan+UBSan with the
#               fuzz targets (clang), run every test through ctest
#   make bench  the benchmarks (bounded in time, loopback only)
#   make deb    the Debian packages, in build/deb/packages (docs/operations.md)

JOBS ?= $(shell nproc 2>/dev/null || echo 2)
RELEASE_DIR ?= build/release
TEST_DIR ?= build/test
DEB_DIR ?= build/deb
CTEST_ARGS ?=

.PHONY: all deps test-deps build run test bench deb clean

all: build

deps:
	@./scripts/install-deps.sh

test-deps:
	@./scripts/install-deps.sh --test

build: deps
	cmake -S . -B $(RELEASE_DIR) -DCMAKE_BUILD_TYPE=Release -DSC_BUILD_TESTS=OFF
	cmake --build $(RELEASE_DIR) -j $(JOBS)

run: build
	./scripts/run-demo.sh $(RELEASE_DIR)

test: test-deps
	CC=clang cmake -S . -B $(TEST_DIR) -DCMAKE_BUILD_TYPE=Debug -DSC_SANITIZE=ON -DSC_FUZZ=ON
	cmake --build $(TEST_DIR) -j $(JOBS)
	cd $(TEST_DIR) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

bench:
	@./scripts/install-deps.sh --bench
	cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DSC_BUILD_TESTS=OFF
	cmake --build build/bench -j $(JOBS)
	./bench/run.sh build/bench

deb: deps
	cmake -S . -B $(DEB_DIR) -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
	  -DSC_BUILD_TESTS=OFF -DSC_BUILD_BENCH=OFF
	cmake --build $(DEB_DIR) -j $(JOBS)
	rm -rf $(DEB_DIR)/packages
	cd $(DEB_DIR) && cpack -G DEB

clean:
	rm -rf build
