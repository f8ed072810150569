# abscopal: a static binary (CGO_ENABLED=0) in a distroless image, run as a
# non-root user. Mount a registry at /registry:
#
#   docker build -t abscopal .
#   docker run -p 8080:8080 -v "$PWD/models:/registry:ro" abscopal
#
# Other settings by environment variable, ABSCOPAL_ and the flag's name in
# capitals (a flag in CMD wins over its variable):
#
#   docker run -e ABSCOPAL_RATE_LIMIT=50 -e ABSCOPAL_TOKENS_FILE=/run/secrets/tokens ... abscopal
#
# Probes: GET /healthz (liveness) and GET /readyz (ready once models are
# loaded). Distroless has no shell or curl, so the HEALTHCHECK runs the
# binary's own probe ("abscopal healthcheck", GET /readyz); it assumes the
# default port: with another --addr, pass --health-cmd to docker run, or use
# the orchestrator's HTTP probes.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/abscopal/abscopal/internal/buildinfo.version=${VERSION}" \
      -o /out/abscopal ./cmd/abscopal

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/abscopal /usr/local/bin/abscopal
USER nonroot:nonroot
VOLUME ["/registry"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["/usr/local/bin/abscopal", "healthcheck", "--url", "http://127.0.0.1:8080/readyz"]
ENTRYPOINT ["/usr/local/bin/abscopal", "serve"]
CMD ["--registry", "/registry", "--addr", ":8080"]
