#!/usr/bin/env bash
# The latest official SDKs (openai, @anthropic-ai/sdk, ai with @ai-sdk/openai and @ai-sdk/anthropic,
# @openai/agents, @langchain/openai) against a fresh stage: installs them into $CLIENTS/sdks (from the
# npm registry), restarts the stage, runs sdks.mjs. Prints one line per check.
#   npm run build && CLIENTS=/tmp/clients WORK=/tmp/tandem-rc scripts/real-clients/sdks.sh
set -euo pipefail
: "${CLIENTS:?where to install the SDKs}" "${WORK:?a scratch dir for the stage}"
export CLIENTS WORK
here="$(cd "$(dirname "$0")" && pwd)"
sdks="$CLIENTS/sdks"
mkdir -p "$sdks"
[ -f "$sdks/package.json" ] || (cd "$sdks" && npm init -y >/dev/null)
(cd "$sdks" && npm install --no-audit --no-fund --silent openai@latest @anthropic-ai/sdk@latest ai@latest \
  @ai-sdk/openai@latest @ai-sdk/anthropic@latest @openai/agents@latest @langchain/openai@latest zod@latest)
"$here/restart-stage.sh" >/dev/null
source "$WORK/stage.env"
cp "$here/sdks.mjs" "$sdks/sdks.mjs"
(cd "$sdks" && node -e "for (const p of ['openai','@anthropic-ai/sdk','ai','@ai-sdk/openai','@ai-sdk/anthropic','@openai/agents','@langchain/openai']) console.log('#', p, require('./node_modules/' + p + '/package.json').version)")
cd "$sdks" && TANDEM_URL="$TANDEM_URL" node sdks.mjs
