# abscopal: a static binary (CGO_ENABLED=0) in an empty (scratch) image, run
# as a non-root user (65532). Mount a registry at /registry:
#
#   docker build -t abscopal .
#   docker run -p 8080:8080 -v "$PWD/models:/registry:ro" abscopal
#
# Other settings by environment variable, ABSCOPAL_ and the flag's name in
# capitals (a flag in CMD wins over its variable):
#
#   docker run -e ABSCOPAL_RATE_LIMIT=50 -e ABSCOPAL_TOKENS_FILE=/run/secrets/tokens ... abscopal
#
# The demo, in the image: docker run -p 8080:8080 --entrypoint
# /usr/local/bin/abscopal abscopal demo
#
# Probes: GET /healthz (liveness) and GET /readyz (ready once models are
# loaded). The image has no shell or curl, so the HEALTHCHECK runs the
# binary's own probe ("abscopal healthcheck", GET /readyz); it assumes the
# default port: with another --addr, pass --health-cmd to docker run, or use
# the orchestrator's HTTP probes.

# GO_IMAGE is the build stage's base. deploy/docker/check.sh, which builds
# and runs the image where no registry can be reached, passes one it
# assembles from Debian and the local Go toolchain.
ARG GO_IMAGE=golang:1.26-bookworm
FROM ${GO_IMAGE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -tags nomsgpack \
      -ldflags "-s -w -X github.com/abscopal/abscopal/internal/buildinfo.version=${VERSION}" \
      -o /out/usr/local/bin/abscopal ./cmd/abscopal
# scratch has no /tmp, where the demo writes its registry. /out is copied
# whole, as the final image's root: COPY of a directory named itself would
# copy its contents only, and lose this one's mode.
RUN mkdir -m 1777 /out/tmp

# scratch, not distroless: the server needs no CA bundle, time zone data or
# user database, and an image with nothing but the binary has nothing else
# to patch or pull.
FROM scratch
ARG VERSION=dev
LABEL org.opencontainers.image.title="abscopal" \
      org.opencontainers.image.description="Predicts response to radiotherapy with immune checkpoint inhibitors in NSCLC: the prediction API" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /out/ /
USER 65532:65532
VOLUME ["/registry"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["/usr/local/bin/abscopal", "healthcheck", "--url", "http://127.0.0.1:8080/readyz"]
ENTRYPOINT ["/usr/local/bin/abscopal", "serve"]
CMD ["--registry", "/registry", "--addr", ":8080"]
