# Ferry: multi-stage build with cargo-chef (dependencies cached apart from our code),
# a slim non-root runtime, migrations and templates embedded in the binary.
FROM rust:1.95-slim-bookworm AS chef
RUN cargo install cargo-chef --locked
WORKDIR /build

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /build/recipe.json recipe.json
RUN cargo chef cook --release --recipe-path recipe.json
COPY . .
RUN cargo build --release --locked --bin ferry

FROM debian:bookworm-slim AS runtime
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/ferry --create-home ferry
COPY --from=builder /build/target/release/ferry /usr/local/bin/ferry
USER ferry
WORKDIR /var/lib/ferry
ENV FERRY_LISTEN=0.0.0.0:8080 \
    FERRY_DATA_DIR=/var/lib/ferry \
    FERRY_ENV=production
EXPOSE 8080
# A TCP probe (bash /dev/tcp); /healthz is the richer check for orchestrators.
HEALTHCHECK --interval=30s --timeout=3s CMD ["/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080"]
ENTRYPOINT ["ferry"]
CMD ["serve"]
