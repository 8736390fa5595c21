# The llmops image: one static binary (`llmops operator` by default) on a slim runtime.
# Build with hack/build-image.sh (docker or podman); both bases are pinned to exact versions,
# and the build stage matches the toolchain the repository is tested with.

# --- build: the Swift toolchain image ---
FROM swift:6.3.1-noble AS build
WORKDIR /src
RUN apt-get update \
    && apt-get install -y --no-install-recommends libsqlite3-dev \
    && rm -rf /var/lib/apt/lists/*
# The manifest first, so source edits reuse the resolved dependencies' layer.
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
# The Swift runtime and Foundation linked in: the runtime image needs no toolchain.
RUN swift build -c release --product llmops --static-swift-stdlib \
    && install -D -m 0755 "$(swift build -c release --show-bin-path)/llmops" /out/llmops \
    && strip /out/llmops

# --- runtime: the C libraries the binary links (checked against `ldd` by Tests/python/test_packaging.py) ---
FROM ubuntu:24.04
RUN apt-get update \
    && apt-get install -y --no-install-recommends libsqlite3-0 libstdc++6 libgcc-s1 zlib1g ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/llmops /usr/local/bin/llmops
# Non-root, numeric (Pod Security "restricted" checks runAsNonRoot against a numeric UID).
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/llmops"]
CMD ["operator", "--leader-elect"]
