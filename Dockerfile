# syntax=docker/dockerfile:1
#
# echo-server (and echo-client) as a container image: the compiled
# binaries on a distroless base (glibc and nothing else), running as
# nonroot.
#
#   docker build -t echo .
#   docker run --rm -p 7007:7007/tcp -p 7007:7007/udp -p 9090:9090 echo
#
# Multi-arch: the build stage runs on the builder's own platform and
# cross-compiles for the target's (deno compile --target), so
# `docker buildx build --platform linux/amd64,linux/arm64` needs no emulation.

ARG DENO_VERSION=2.9.6

FROM --platform=$BUILDPLATFORM denoland/deno:${DENO_VERSION} AS build
ARG TARGETARCH
WORKDIR /src
COPY deno.json ./
COPY server.ts client.ts ./
COPY lib/ lib/
COPY tools/ tools/
RUN case "$TARGETARCH" in \
      amd64) target=x86_64-unknown-linux-gnu ;; \
      arm64) target=aarch64-unknown-linux-gnu ;; \
      *) echo "unsupported architecture: $TARGETARCH" >&2; exit 1 ;; \
    esac \
 && deno task compile --target "$target" \
 && cp "dist/echo-server-$target" /echo-server \
 && cp "dist/echo-client-$target" /echo-client

FROM gcr.io/distroless/cc-debian12:nonroot
ARG VERSION=dev
ARG SOURCE=""
LABEL org.opencontainers.image.title="echo-server" \
      org.opencontainers.image.description="TCP, TLS, UDP echo server: byte-exact, bounded, with health, readiness and Prometheus metrics" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.source="${SOURCE}"
COPY --from=build /echo-server /echo-server
# The client too: `echo-client` for a load from inside the cluster
# (deploy/kubernetes/bench-job.yaml) and for checks from a debug shell.
COPY --from=build /echo-client /echo-client
USER nonroot
# TCP and UDP echo, and the admin endpoint (/healthz, /readyz, /metrics).
EXPOSE 7007/tcp 7007/udp 9090/tcp
# Exec form: the server is PID 1 and gets SIGTERM itself, which starts the
# drain (it installs its own handler, so PID 1's default of ignoring
# signals does not apply).
ENTRYPOINT ["/echo-server"]
# Inside a container, listen on all interfaces; the admin endpoint too.
# --shutdown-delay: on SIGTERM, /readyz turns 503 while new connections are
# still served for 5 s (load balancers notice), then the drain; for
# platforms without a preStop hook (Docker, Compose, Nomad, ECS).
CMD ["--host", "0.0.0.0", "--udp", "--admin-port", "9090", "--admin-host", "0.0.0.0", "--shutdown-delay", "5s", "--log-format", "json"]
# The image has no shell and no curl: the binary checks itself (exec form),
# asking /readyz on the admin port above.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["/echo-server", "health", "http://127.0.0.1:9090/readyz"]
