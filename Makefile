# The two commands a newcomer needs: `make demo` and `make test`.
# Everything else is a step of those.
SHELL := /bin/bash
JOBS ?= 2
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
DEMO_STATE ?= $(CURDIR)/tests/cluster/.state/demo

.PHONY: all bootstrap build build-cli build-asan build-fuzz test test-unit test-asan test-e2e test-fuzz demo demo-down image format bench clean

all: build

bootstrap:
	bash scripts/bootstrap.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: bootstrap $(BUILD)/build.ninja
	cmake --build $(BUILD) -j$(JOBS)

# Only the CLI (what the demo needs), not the tests.
build-cli: bootstrap $(BUILD)/build.ninja
	cmake --build $(BUILD) --target faultline -j$(JOBS)

$(ASAN_BUILD)/build.ninja:
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DFAULTLINE_SANITIZE=ON -DFAULTLINE_E2E=OFF

build-asan: bootstrap $(ASAN_BUILD)/build.ninja
	cmake --build $(ASAN_BUILD) -j$(JOBS)

# The libFuzzer targets: clang, a build dir of their own (tests/fuzz).
$(FUZZ_BUILD)/build.ninja:
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFAULTLINE_FUZZ=ON -DFAULTLINE_E2E=OFF

build-fuzz: bootstrap $(FUZZ_BUILD)/build.ninja
	cmake --build $(FUZZ_BUILD) --target fuzz_targets -j$(JOBS)

# Each target for a fixed time (FAULTLINE_FUZZ_SECONDS, 20 s) over its corpus.
test-fuzz: build-fuzz
	cd $(FUZZ_BUILD) && ctest --output-on-failure --no-tests=error -L fuzz

# The whole suite: unit, then e2e (the e2e fixture builds and starts the local
# control plane, runs every e2e test against it, and stops it; apart from the
# unit tests so their timing is not disturbed by a busy cluster), then the
# unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer, then
# the fuzz targets.
# The e2e tests of one cluster hold that cluster's ctest lock and run one at a
# time; under -j2 the tests of two clusters (kwok, real nodes, the DR regions)
# and the two lock-free builds (the image, Velero and MinIO) run side by side.
# The ASan+UBSan and fuzz builds (12 min of CPU cold on 2 cores) run beside
# the e2e label at nice 19: the e2e phase mostly waits on clusters, and at nice
# 19 a compiler gets only the CPU it leaves (CFS weight 15 against 1024), so
# the e2e timings are not disturbed. Their output goes to $(BUILD)/sanitizer-builds.log,
# printed after the e2e tests; the sanitizer tests and fuzzing themselves run
# afterwards at normal priority.
test: build
	cd $(BUILD) && ctest --output-on-failure --no-tests=error -L unit -j$(JOBS)
	@log=$(BUILD)/sanitizer-builds.log; \
	nice -n 19 $(MAKE) --no-print-directory build-asan build-fuzz >$$log 2>&1 & builds=$$!; \
	e2e=0; (cd $(BUILD) && ctest --output-on-failure --no-tests=error -L e2e -j2) || e2e=$$?; \
	built=0; wait $$builds || built=$$?; \
	echo "== the ASan+UBSan and fuzz builds, run beside the e2e tests ($$log):"; tail -n 40 $$log; \
	if [[ $$e2e != 0 ]]; then echo "make test: e2e tests failed (exit $$e2e)" >&2; exit 1; fi; \
	if [[ $$built != 0 ]]; then echo "make test: the ASan+UBSan or fuzz build failed (exit $$built)" >&2; exit 1; fi
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure --no-tests=error -L unit -j$(JOBS)
	cd $(FUZZ_BUILD) && ctest --output-on-failure --no-tests=error -L fuzz

test-unit: build
	cd $(BUILD) && ctest --output-on-failure --no-tests=error -L unit -j$(JOBS)

test-e2e: build
	cd $(BUILD) && ctest --output-on-failure --no-tests=error -L e2e -j2

# Installs what is needed, builds, starts a local 3-zone cluster with one real
# node per zone (kubelet + containerd; needs root), deploys the demo app on
# them, runs the zone-outage drill (real requests through the Service's
# ClusterIP) and prints where the report is.
# Pods Ready is not yet traffic through the Service: kube-proxy programs the
# endpoints a moment later, and the drill's steady state (availability over
# the warm-up) rightly refuses a service that drops requests. So the demo
# waits for 20 answers in a row through the ClusterIP (150 tries, 0.2 s apart).
demo: build-cli
	@kubeconfig=$$(tests/cluster/up.sh --state $(DEMO_STATE) --real-nodes-per-zone 1) && \
	kubectl="$(DEMO_STATE)/bin/kubectl --kubeconfig $$kubeconfig" && \
	$$kubectl apply -k manifests/demo/real-nodes >/dev/null && \
	$$kubectl rollout status deployment/checkout -n shop --timeout=120s && \
	ip=$$($$kubectl -n shop get service checkout -o jsonpath='{.spec.clusterIP}') && \
	ok=0 && for _ in $$(seq 1 150); do \
	  if curl -sf -o /dev/null --max-time 1 "http://$$ip/healthz"; then ok=$$((ok + 1)); else ok=0; fi; \
	  [[ $$ok -ge 20 ]] && break; sleep 0.2; \
	done && \
	{ [[ $$ok -ge 20 ]] || { echo "demo: the Service does not answer through its ClusterIP $$ip" >&2; exit 1; }; } && \
	echo "demo: the app (manifests/demo/real-nodes) is up: 6 replicas on the real nodes of zone-a/b/c; running the zone-outage drill with real traffic (experiments/zone-outage-http.yaml)" && \
	$(BUILD)/runner/faultline run experiments/zone-outage-http.yaml --kubeconfig $$kubeconfig \
	  --output-dir faultline-reports/demo && \
	echo "demo: open faultline-reports/demo/report.html; the cluster keeps running (make demo-down stops it)"

demo-down:
	tests/cluster/down.sh --state $(DEMO_STATE)

# The container image from the Dockerfile, with buildah and a base image made
# locally by debootstrap (no registry, no Docker daemon; needs root):
# build/image/faultline-0.1.0.oci.tar, an OCI archive for `ctr images import`
# (tests/cluster/load-image.sh); IMAGE_LOAD=<cluster state
# dir> also imports it into that local cluster's real nodes. Not part of
# `make test`.
IMAGE_LOAD ?=
image:
	nice -n 19 bash scripts/image.sh --jobs $(JOBS) $(if $(IMAGE_LOAD),--load-into $(IMAGE_LOAD))

format:
	git ls-files '*.cpp' '*.h' | xargs clang-format -i

bench: build
	@echo "see tests/bench/*/README.md for each benchmark"

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
