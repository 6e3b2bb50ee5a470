#!/usr/bin/env bash
# (Re)starts the stage in $WORK (a fresh dir each time), waits for it to be ready.
set -euo pipefail
: "${WORK:?workdir of the stage}"
cd "$(dirname "$0")/../.."
if [ -f "$WORK.pid" ]; then kill "$(cat "$WORK.pid")" 2>/dev/null || true; sleep 1; fi
rm -rf "$WORK" && mkdir -p "$WORK"
node --import tsx scripts/real-clients/stage.ts "$WORK" > "$WORK.out" 2>&1 &
echo $! > "$WORK.pid"
for _ in $(seq 60); do grep -q "STAGE READY" "$WORK.out" 2>/dev/null && break; sleep 1; done
cat "$WORK.out"
