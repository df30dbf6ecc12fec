# syntax=docker/dockerfile:1
# faultline's container image: build on Debian bookworm with Debian's -dev
# packages (the same ones scripts/bootstrap.sh installs), run on
# bookworm-slim with only the matching runtime libraries, as a non-root user.
#
#   docker build -t faultline:0.1.0 .
#   docker build --build-arg RUN_UNIT_TESTS=1 -t faultline:0.1.0 .   # also run `ctest -L unit`
#   make image    # the same with buildah and base images made by debootstrap (scripts/image.sh)
#
# manifests/ expects the image as faultline:0.1.0; push it under your
# registry's name and set that with `images:` in an overlay
# (docs/running-in-cluster.md).

ARG DEBIAN_RELEASE=bookworm

FROM debian:${DEBIAN_RELEASE} AS build
ARG DEBIAN_FRONTEND=noninteractive
# scripts/bootstrap.sh's build packages (not its test tools). libssl-dev too:
# configuring the tree finds OpenSSL for tests/unit/kube's HTTPS test server
# even when only the CLI is built.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential ccache cmake ninja-build pkg-config \
      libcurl4-openssl-dev nlohmann-json3-dev libyaml-cpp-dev prometheus-cpp-dev \
      liblua5.4-dev libgtest-dev libgmock-dev \
      libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# e2e tests need the local control plane (Go, etcd, kwok): not in an image build.
# BUILD_JOBS: compile jobs (empty: ninja's default, all cores + 2).
# The compiler cache lives in a cache mount, outside the image: after a
# source edit (COPY . . changed) only the edited files are compiled again
# (the build finds ccache by itself, CMakeLists.txt).
ARG BUILD_JOBS=
ENV CCACHE_DIR=/ccache CCACHE_MAXSIZE=2G
RUN --mount=type=cache,target=/ccache,sharing=locked \
    cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DFAULTLINE_E2E=OFF \
 && cmake --build build --target faultline ${BUILD_JOBS:+-j$BUILD_JOBS}
ARG RUN_UNIT_TESTS=0
RUN --mount=type=cache,target=/ccache,sharing=locked \
    if [ "$RUN_UNIT_TESTS" = 1 ]; then \
      cmake --build build && ctest --test-dir build -L unit --output-on-failure; \
    fi
RUN install -D -m 0755 -s build/runner/faultline /out/usr/local/bin/faultline \
 && mkdir -p /out/etc/faultline \
 && cp -r experiments lua-scripts /out/etc/faultline/

FROM debian:${DEBIAN_RELEASE}-slim AS runtime
ARG DEBIAN_FRONTEND=noninteractive
# The shared libraries the binary links (libcurl's OpenSSL flavour, yaml-cpp,
# Lua 5.4 built as C++, prometheus-cpp with pull and push) and the CA bundle
# for TLS to the API server, Prometheus and the Pushgateway. Nothing else.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates libcurl4 libyaml-cpp0.7 liblua5.4-0 \
      libprometheus-cpp-core1.0 libprometheus-cpp-pull1.0 libprometheus-cpp-push1.0 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/ /
# Fail the build, not the first drill, if a runtime library is missing.
RUN ! ldd /usr/local/bin/faultline | grep 'not found' && faultline version
# The user manifests/ runs as (runAsUser 65532); no login shell, no home.
RUN groupadd --system --gid 65532 faultline \
 && useradd --system --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin faultline
# Reports go to the working directory by default: give the user one it owns
# (in a pod an emptyDir is mounted over it; with docker run, mount a folder).
RUN install -d -o 65532 -g 65532 -m 0755 /reports
USER 65532:65532
WORKDIR /reports
ENTRYPOINT ["faultline"]
