#!/usr/bin/env bash
# Dataset generation on a cluster of processes, with a worker killed mid-job: starts `farm cluster` (broker, S3 server,
# gateway and WORKERS workers as separate JVMs on loopback) on a scratch directory, runs `farm augment` for a perClass
# dataset (DDIM, STEPS steps (default 50), guidance 2), and with KILL=1 kills worker-2 with SIGKILL once a third of the
# samples are done. `farm augment` checks the downloaded dataset (every index exactly once, with its class). Prints the wall time,
# images/s, the tasks each worker finished, the tasks resumed from a checkpoint and each worker's peak RSS, and writes
# them to target/cluster-augment-W{WORKERS}-K{KILL}.txt.
#   usage: [STEPS=50] scripts/bench/cluster-augment.sh [PER_CLASS=1000] [WORKERS=3] [KILL=1] [DATASET_DIR]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PER_CLASS=${1:-1000}
WORKERS=${2:-3}
KILL=${3:-1}
STEPS=${STEPS:-50}
DATA=$(mktemp -d /tmp/farm-cluster-XXXX)
DATASET=${4:-$DATA/dataset}
KEY=cluster-bench-key-0123456789
export FARM_DATA_DIR=$DATA/data FARM_HTTP_PORT=18190 FARM_KAFKA_BOOTSTRAP=localhost:18192 \
  FARM_S3_ENDPOINT=http://localhost:18100 FARM_S3_ACCESS_KEY=clusterbench FARM_S3_SECRET_KEY=clusterbench-secret \
  FARM_API_KEYS=bench:$KEY FARM_WORKER_METRICS_PORT=18181 FARM_URL_SIGNING_KEY=cluster-bench-signing-key \
  FARM_URL=http://localhost:18190 FARM_API_KEY=$KEY
OUT="$ROOT/target/cluster-augment-W$WORKERS-K$KILL.txt"
mkdir -p "$ROOT/target"

"$ROOT/scripts/farm" cluster --workers "$WORKERS" >"$DATA/cluster.log" 2>&1 &
CLUSTER=$!
trap 'kill $CLUSTER 2>/dev/null; wait $CLUSTER 2>/dev/null; rm -rf "$DATA/data"' EXIT
trap 'exit 130' INT TERM
for i in $(seq 0 $((WORKERS - 1))); do
  until curl -sf "http://localhost:$((18181 + i))/health" >/dev/null; do sleep 1; done
done
pid_of() { awk -v n="$1" '$1 == n {print $2}' "$FARM_DATA_DIR/cluster.pids"; }

# peak RSS of every worker, sampled every 2 s (a killed worker just stops being sampled)
( set +e +o pipefail
  while true; do
    for i in $(seq 1 "$WORKERS"); do
      ps -o rss= -p "$(pid_of worker-$i)" 2>/dev/null | awk -v w="worker-$i" '{print w, $1}'
    done
    sleep 2
  done >"$DATA/rss.log" ) &
SAMPLER=$!

START=$(date +%s.%N)
"$ROOT/scripts/farm" augment --per-class "$PER_CLASS" --out "$DATASET" --format idx --seed 5 --steps "$STEPS" \
  2>"$DATA/augment.log" &
AUGMENT=$!
KILLED="no worker killed"
if [ "$KILL" = 1 ]; then
  until JOB=$(grep -o 'job [0-9a-f-]*:' "$DATA/augment.log" | cut -d' ' -f2 | tr -d :) && [ -n "$JOB" ]; do sleep 1; done
  COUNT=$((PER_CLASS * 10))
  until [ "$(curl -sf -H "Authorization: Bearer $KEY" "$FARM_URL/v1/jobs/$JOB" \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["progress"]["samplesDone"])')" -ge $((COUNT / 3)) ]; do
    sleep 2
  done
  kill -KILL "$(pid_of worker-2)"
  KILLED="worker-2 killed with SIGKILL at $(curl -sf -H "Authorization: Bearer $KEY" "$FARM_URL/v1/jobs/$JOB" \
      | python3 -c 'import json,sys; p=json.load(sys.stdin)["progress"]; print(p["samplesDone"], "of", p["count"])') samples"
fi
STATUS=0
wait $AUGMENT || STATUS=$?
END=$(date +%s.%N)
kill $SAMPLER 2>/dev/null || true
{
  echo "farm cluster --workers $WORKERS; farm augment --per-class $PER_CLASS (DDIM-$STEPS, guidance 2); $KILLED"
  grep -E 'dataset verified|not what was asked|samples in' "$DATA/augment.log" || tail -3 "$DATA/augment.log"
  python3 -c "n=$PER_CLASS*10; s=$END-$START; print(f'{n} images in {s:.0f} s: {n/s:.2f} images/s')"
  for i in $(seq 1 "$WORKERS"); do
    LOG=$FARM_DATA_DIR/logs/worker-$i.log
    echo "worker-$i: $(grep -c 'results stored in' "$LOG" || true) tasks finished, $(grep -c 'resuming from its checkpoint' "$LOG" || true) resumed from a checkpoint, peak RSS $(awk -v w="worker-$i" '$1 == w && $2 > m {m = $2} END {printf "%.0f MiB", m / 1024}' "$DATA/rss.log")"
  done
  grep -h 'resuming from its checkpoint' "$FARM_DATA_DIR"/logs/worker-*.log | sed 's/^.*job/  job/' | head -5
} | tee "$OUT"
exit $STATUS
