# One image holds the five binaries; compose picks one per container.
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev libsqlite3-dev pkg-config && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bins && \
    mkdir /out && cp target/release/sales target/release/invoicing target/release/projects target/release/helpdesk target/release/stack /out/

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 libsqlite3-0 ca-certificates curl && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /app app
COPY --from=build /out/ /usr/local/bin/
WORKDIR /app
USER app
CMD ["stack", "--data-dir", "/app/data"]
