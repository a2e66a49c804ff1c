# The flowlogs image, for CI users who run tools as images:
#   docker run --rm -v "$PWD:/work" -e AWS_REGION -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY \
#     flowlogs:<version> setup --yes
# Built by .ci/release from its static (musl) release archive, the same bytes as the download:
#   docker build --build-arg ARCHIVE=flowlogs-<version>-x86_64-unknown-linux-musl.tar.gz \
#     -f Dockerfile dist/
# Stage 1 checks the archive against SHA256SUMS and unpacks it; the runtime is distroless
# static: the binary, CA certificates (the AWS calls and the forwarder's endpoint checks use the
# platform's store), no shell, a non-root user.
ARG ARCHIVE

FROM debian:bookworm-slim AS unpack
ARG ARCHIVE
WORKDIR /dist
COPY ${ARCHIVE} SHA256SUMS ./
RUN grep " ${ARCHIVE}\$" SHA256SUMS | sha256sum -c - \
 && mkdir /out && tar -xzf "${ARCHIVE}" -C /out --strip-components=1 \
 && /out/flowlogs --version

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=unpack /out/flowlogs /usr/local/bin/flowlogs
COPY --from=unpack /out/templates /usr/share/flowlogs/templates
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/flowlogs"]
