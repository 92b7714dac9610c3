#!/usr/bin/env bash
# The farm survives a kill -9 mid-job: starts `farm up` on a scratch directory, submits a DDPM job, kills the whole
# farm (broker, S3 server, gateway, worker) with SIGKILL halfway, starts it again on the same data, waits for the job,
# then runs the same request (same seed) uninterrupted and compares the two samples.npy files byte for byte.
# Prints the verdict and writes it to target/crash-resume.txt.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DATA=$(mktemp -d /tmp/farm-crash-XXXX)
KEY=crash-test-key-0123456789
URL=http://localhost:18090
export FARM_DATA_DIR=$DATA/data FARM_HTTP_PORT=18090 FARM_KAFKA_BOOTSTRAP=localhost:18092 \
  FARM_S3_ENDPOINT=http://localhost:18000 FARM_S3_ACCESS_KEY=crashtest FARM_S3_SECRET_KEY=crashtest-secret \
  FARM_API_KEYS=crash:$KEY FARM_WORKER_METRICS_PORT=0 FARM_URL_SIGNING_KEY=crash-test-signing-key
JOB='{"type":"generate","count":8,"sampler":"ddpm","steps":300,"checkpointEvery":30,"seed":7,"outputs":["npy"]}'
OUT="$ROOT/target/crash-resume.txt"
mkdir -p "$ROOT/target"

up() {
  "$ROOT/scripts/farm" up >>"$DATA/up.log" 2>&1 &
  PID=$!
  until curl -sf "$URL/health" >/dev/null; do sleep 1; done
}
api() { curl -sf -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' "$@"; }
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
wait_done() {
  until [ "$(api "$URL/v1/jobs/$1" | field 'd["status"]')" = succeeded ]; do sleep 2; done
}
npy_sha() {
  local url
  url=$(api "$URL/v1/jobs/$1/results" | field '[f["url"] for f in d["files"] if f["path"]=="samples.npy"][0]')
  curl -sf "$URL$url" | sha256sum | cut -c1-16
}

up
A=$(api -X POST "$URL/v1/jobs" -d "$JOB" | field 'd["id"]')
until [ "$(api "$URL/v1/jobs/$A" | field 'd["progress"]["step"]')" -ge 150 ]; do sleep 1; done
STEP=$(api "$URL/v1/jobs/$A" | field 'd["progress"]["step"]')
pkill -KILL -f "dev.ddpmfarm.infra.Main up" || true
wait "$PID" 2>/dev/null || true
up
wait_done "$A"
RESUMED=$(grep -o 'resuming from its checkpoint, [0-9]* of [0-9]* sample-steps' "$DATA/up.log" | head -1 || true)
B=$(api -X POST "$URL/v1/jobs" -d "$JOB" | field 'd["id"]')
wait_done "$B"
SHA_A=$(npy_sha "$A")
SHA_B=$(npy_sha "$B")
kill "$PID"
wait "$PID" 2>/dev/null || true
{
  echo "killed the farm (kill -9) at step $STEP of 300; after the restart: ${RESUMED:-no resume logged}"
  echo "samples.npy of the interrupted job $SHA_A, of an uninterrupted run of the same request $SHA_B"
  [ "$SHA_A" = "$SHA_B" ] && echo "bit-identical" || echo "DIFFERENT"
} | tee "$OUT"
rm -rf "$DATA"
[ "$SHA_A" = "$SHA_B" ]
