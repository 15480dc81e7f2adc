# One image holds the five binaries; compose builds it once (as prepaid-support:latest) and
# runs one binary per container. Run alone, it starts `stack`: the four services in one
# process on 0.0.0.0:8081-8084, SQLite files and the token secret in the volume /app/data:
#   docker build -t prepaid-support . && docker run -p 8081-8084:8081-8084 -v prepaid-data:/app/data prepaid-support
#   docker exec <container> stack --data-dir /app/data token --role admin --sub me --ttl 1d
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev libsqlite3-dev pkg-config && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bins && \
    mkdir /out && cp target/release/sales target/release/invoicing target/release/projects target/release/helpdesk target/release/stack /out/

FROM debian:bookworm-slim
# The user `app` (uid 10001) runs everything; it owns /app/data before the VOLUME line, so a
# fresh volume starts owned by it and `stack` can write its databases and secret there.
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 libsqlite3-0 ca-certificates curl && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --shell /usr/sbin/nologin app \
    && mkdir -p /app/data && chown -R app:app /app
COPY --from=build /out/ /usr/local/bin/
WORKDIR /app
# `stack` reads <SERVICE>_BIND (127.0.0.1 by default, unreachable from outside a container).
# The single-service binaries read BIND instead: compose sets it for each.
ENV SALES_BIND=0.0.0.0:8081 \
    INVOICING_BIND=0.0.0.0:8082 \
    PROJECTS_BIND=0.0.0.0:8083 \
    HELPDESK_BIND=0.0.0.0:8084
EXPOSE 8081 8082 8083 8084
VOLUME /app/data
# Numeric, so that a runtime (Kubernetes' runAsNonRoot) can tell it is not root.
USER 10001:10001
CMD ["stack", "--data-dir", "/app/data"]
