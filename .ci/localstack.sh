#!/usr/bin/env bash
# Install LocalStack (host mode, no Docker) in its own venv, start its S3 on 127.0.0.1:4566 in the
# background, wait until it is ready and print the endpoint. Usage:
#   bash .ci/localstack.sh          # install if needed, start, print http://127.0.0.1:4566
#   bash .ci/localstack.sh stop     # stop the instance this script started
# Then: EPCLOUD_TEST_S3_ENDPOINT=http://127.0.0.1:4566 .venv/bin/pytest tests/storage
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${EPCLOUD_LOCALSTACK_VENV:-$ROOT/.venv-localstack}"
DATA="${EPCLOUD_LOCALSTACK_DIR:-/tmp/epcloud-localstack}"
HOST=127.0.0.1
PORT="${EPCLOUD_LOCALSTACK_PORT:-4566}"
ENDPOINT="http://$HOST:$PORT"
PIDFILE="$DATA/localstack.pid"
LOG="$DATA/localstack.log"

stop() {
    if [[ -f "$PIDFILE" ]]; then
        local pid
        pid="$(cat "$PIDFILE")"
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
        rm -f "$PIDFILE"
    fi
}

ready() {
    curl -fsS "$ENDPOINT/_localstack/health" 2>/dev/null | grep -Eq '"s3": *"(available|running)"'
}

if [[ "${1:-start}" == "stop" ]]; then
    stop
    exit 0
fi

# Its pins clash with recent boto3/pyOpenSSL, and newer localstack-core needs Python 3.12 syntax.
if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c "import localstack.runtime.main" 2>/dev/null; then
    echo "installing LocalStack into $VENV" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check \
        'localstack-core[runtime]==4.9.2' 'cbor2<6' 'pyopenssl<25' >&2
fi

mkdir -p "$DATA/vol"
if ready; then
    echo "$ENDPOINT"
    exit 0
fi
stop

GATEWAY_SERVER=hypercorn GATEWAY_LISTEN="$HOST:$PORT" SERVICES=s3 EAGER_SERVICE_LOADING=1 \
    FILESYSTEM_ROOT="$DATA" LOCALSTACK_VOLUME_DIR="$DATA/vol" \
    nohup "$VENV/bin/python" -m localstack.runtime.main >"$LOG" 2>&1 &
echo $! >"$PIDFILE"

for _ in $(seq 1 120); do
    if ready; then
        echo "$ENDPOINT"
        exit 0
    fi
    if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
        echo "LocalStack exited during start-up; last lines of $LOG:" >&2
        tail -n 40 "$LOG" >&2
        exit 1
    fi
    sleep 0.5
done
echo "LocalStack did not become ready within 60 s; last lines of $LOG:" >&2
tail -n 40 "$LOG" >&2
stop
exit 1
