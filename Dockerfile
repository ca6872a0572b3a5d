# syntax=docker/dockerfile:1
# sluice container image (docs/kubernetes.md). Two stages:
#   build:   Debian 12 with the project's own scripts/install-deps.sh and the release preset the tests use
#   runtime: debian:12-slim with only the shared libraries the binary links (listed by
#            deploy/docker/runtime-packages.sh from the binary itself), a non-root user, the config at
#            /etc/sluice/sluice.yaml and the ledger under the /var/lib/sluice volume.
#   docker build -t sluice:0.1.0 .
ARG DEBIAN_IMAGE=debian:12

FROM ${DEBIAN_IMAGE} AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/
RUN scripts/install-deps.sh build && rm -rf /var/lib/apt/lists/*
COPY . .
RUN --mount=type=cache,target=/root/.cache/ccache \
    cmake --preset release -DBUILD_TESTING=ON \
 && cmake --build --preset release --target sluice -j"$(nproc)" \
 && deploy/docker/runtime-packages.sh build/sluice > /tmp/runtime-packages.txt \
 && build/sluice check -c deploy/docker/sluice.yaml

FROM debian:12-slim AS runtime
COPY --from=build /tmp/runtime-packages.txt /tmp/
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates \
      $(cat /tmp/runtime-packages.txt) \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt \
 && groupadd --system --gid 10001 sluice \
 && useradd --system --uid 10001 --gid sluice --home-dir /var/lib/sluice --shell /usr/sbin/nologin sluice \
 && install -d -o sluice -g sluice -m 0750 /var/lib/sluice \
 && install -d -m 0755 /etc/sluice
COPY --from=build /src/build/sluice /usr/local/bin/sluice
COPY deploy/docker/sluice.yaml /etc/sluice/sluice.yaml
USER 10001:10001
WORKDIR /var/lib/sluice
VOLUME ["/var/lib/sluice"]
EXPOSE 8080 9464 9901
ENTRYPOINT ["/usr/local/bin/sluice"]
CMD ["serve", "-c", "/etc/sluice/sluice.yaml"]
