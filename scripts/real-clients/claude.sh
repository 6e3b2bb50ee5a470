#!/usr/bin/env bash
# Runs Claude Code (non-interactive) against the stage started by stage.ts, with everything that
# phones home off and a throwaway HOME; any other traffic is caught by the stage's egress trap.
#   CLIENTS=/tmp/clients WORK=/tmp/rc/w1 scripts/real-clients/claude.sh -p "Say hi" --output-format json
set -euo pipefail
: "${CLIENTS:?where @anthropic-ai/claude-code is installed}" "${WORK:?workdir of the stage}"
source "$WORK/stage.env"
export HOME="$WORK/claude-home" && mkdir -p "$HOME" "$WORK/sandbox"
export CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 DISABLE_TELEMETRY=1 DISABLE_ERROR_REPORTING=1 \
  DISABLE_AUTOUPDATER=1 DISABLE_BUG_COMMAND=1
export ANTHROPIC_BASE_URL="$TANDEM_URL" ANTHROPIC_API_KEY="${ANTHROPIC_API_KEY-unused}"
export HTTPS_PROXY="$TRAP_URL" HTTP_PROXY="$TRAP_URL" NO_PROXY=127.0.0.1,localhost
cd "$WORK/sandbox"
exec "$CLIENTS/node_modules/.bin/claude" "$@"
