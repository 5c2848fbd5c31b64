# banhao in a container: one static binary (pure Go, SQLite included),
# the fonts, templates and demo data embedded in it.
#
#   docker build -t banhao .
#   docker run -p 8080:8080 -v banhao-data:/var/lib/banhao/data banhao
#
# With the embedded store the volume holds the database, the uploaded
# files and the key files: back it up with `banhao backup` (see
# docs/deployment.md). For MongoDB pass BANHAO_MONGODB_URI,
# BANHAO_DATA_KEY and BANHAO_SIGNING_KEYS (secrets; *_FILE variants read
# them from mounted files) and run as many containers as you like.
FROM golang:1.26-trixie AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# timetzdata: the center's time zone works without the OS zone files.
RUN CGO_ENABLED=0 go build -trimpath -tags timetzdata -ldflags="-s -w" -o /out/banhao ./cmd/banhao

FROM debian:trixie-slim
# CA certificates for the WeChat API and the courier company's API.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/banhao --create-home banhao \
 && install -d -o banhao -g banhao -m 0750 /var/lib/banhao/data /var/lib/banhao/backups
COPY --from=build /out/banhao /usr/local/bin/banhao
USER banhao
WORKDIR /var/lib/banhao
ENV BANHAO_ADDR=:8080 \
    BANHAO_DATA_DIR=/var/lib/banhao/data \
    BANHAO_LOG_FORMAT=json
# Named volumes copy these folders' owner, so banhao can write to them.
VOLUME ["/var/lib/banhao/data", "/var/lib/banhao/backups"]
EXPOSE 8080
# Probes: GET /healthz (alive) and GET /readyz (the store answers).
# SIGTERM drains requests and stops background work before exit.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/banhao"]
