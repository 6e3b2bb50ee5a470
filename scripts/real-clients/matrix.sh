#!/usr/bin/env bash
# The real-client matrix: Claude Code and Codex x targets x (one-shot, tool round trip, resumed
# session), against a fresh stage. Prints one line per cell; details in $WORK/*.jsonl.
#   npm run build && CLIENTS=/tmp/clients WORK=/tmp/tandem-rc scripts/real-clients/matrix.sh
# LOCAL=1 adds the embedded engine (slow on a CPU: Claude Code's ~40k-token prompt, one thread).
set -uo pipefail
: "${CLIENTS:?where the CLIs are installed}" "${WORK:?a scratch dir for the stage}"
export CLIENTS WORK
here="$(dirname "$0")"
patient='timeouts: { firstTokenMs: 900000, idleMs: 900000, totalMs: 1800000 }'
STAGE_ROUTES="local-chat: { tiers: [local/chat], $patient };local-bash: { tiers: [local/bash], $patient };local-shell: { tiers: [local/shell], $patient }" \
  "$here/restart-stage.sh" >/dev/null || exit 1
cell() { # name, expected text, command...
  local name="$1" want="$2"; shift 2
  local out; out="$(timeout 1200 bash -c '"$@"' _ "$@" 2>/dev/null)"; local rc=$?
  if [ $rc -eq 0 ] && grep -q -- "$want" <<<"$out"; then echo "PASS $name"; else echo "FAIL $name (exit $rc): $(tail -c 300 <<<"$out")"; fi
}
claude() { "$here/claude.sh" --output-format json "$@"; }
codex() { "$here/codex.sh" exec --skip-git-repo-check "$@"; }
export -f claude codex; export here
cc_targets="to-anthropic to-openai"; cx_targets="to-anthropic to-openai to-responses"
[ "${LOCAL:-0}" = 1 ] && cc_targets="$cc_targets local-bash" && cx_targets="$cx_targets local-shell"
for t in $cc_targets; do
  cell "claude-code $t one-shot" '"is_error":false' claude -p "Say hi" --model "$t"
  cell "claude-code $t tool" 'TOOL_RESULT_SEEN\|Local tool done' claude -p "RUN_TOOL" --model "$t" --allowedTools Bash
  claude -p "My code word is PELICAN" --model "$t" >/dev/null 2>&1
  [ "${t#local}" = "$t" ] && cell "claude-code $t --continue" 'code word is PELICAN' claude -p "What is the code word?" --continue --model "$t"
done
# Claude Code thinking (MAX_THINKING_TOKENS) on a Responses-only upstream: the upstream's sealed
# reasoning rides in the thinking block's signature and comes back with the tool's result.
cell "claude-code to-responses thinking tool" 'TOOL_RESULT_SEEN (reasoning back)' \
  env MAX_THINKING_TOKENS=4000 "$here/claude.sh" --output-format json -p "RUN_TOOL" --model to-responses --allowedTools Bash
# The same on a gpt-5.5-like host, whose chat completions refuse tools beside an effort: tandem sends
# such requests to its /v1/responses, and the sealed reasoning comes back there too.
cell "claude-code to-gpt55 thinking tool" 'TOOL_RESULT_SEEN (reasoning back)' \
  env MAX_THINKING_TOKENS=4000 "$here/claude.sh" --output-format json -p "RUN_TOOL" --model to-gpt55 --allowedTools Bash
for t in $cx_targets; do
  cell "codex $t one-shot" 'answer\|Local tool done' codex -m "$t" "Say hi"
  cell "codex $t tool" 'TOOL_RESULT_SEEN\|Local tool done' codex -s workspace-write -m "$t" "RUN_TOOL"
  codex -m "$t" "My code word is PELICAN" >/dev/null 2>&1
  [ "${t#local}" = "$t" ] && cell "codex $t exec resume" 'code word is PELICAN' codex -m "$t" resume --last "What is the code word?"
done
# The Responses API's WebSocket mode (Codex's supports_websockets): a cell fails if Codex fell back to HTTPS.
codex_ws() {
  local out; out="$(CODEX_WEBSOCKETS=true "$here/codex.sh" exec --skip-git-repo-check "$@" 2>&1)"; local rc=$?
  echo "$out"; [ $rc -eq 0 ] && ! grep -q "Falling back from WebSockets" <<<"$out"
}
export -f codex_ws
cell "codex to-openai websocket tool" 'TOOL_RESULT_SEEN' codex_ws -s workspace-write -m to-openai "RUN_TOOL"
codex_ws -m to-anthropic "My code word is PELICAN" >/dev/null 2>&1
cell "codex to-anthropic websocket exec resume" 'code word is PELICAN' codex_ws -m to-anthropic resume --last "What is the code word?"
# A route's MCP tools, run by tandem: the client sees the answer after the call, not the call.
cell "claude-code to-anthropic-mcp route tools" 'TOOL_RESULT_SEEN: MCP_ECHO_OK' claude -p "RUN_MCP" --model to-anthropic-mcp
cell "codex to-openai-mcp route tools" 'TOOL_RESULT_SEEN: MCP_ECHO_OK' codex -m to-openai-mcp "RUN_MCP"
# tandem as an MCP server: each CLI is given tandem's /mcp and calls its list_models tool (Codex's MCP
# tools come as a `namespace` tool, which tandem gives a non-Responses target as flat function tools).
cell "claude-code to-anthropic tandem-mcp" '{\\\?"models\\\?":' claude -p "RUN_TANDEM_MCP" --model to-anthropic \
  --mcp-config "{\"mcpServers\":{\"tandem\":{\"type\":\"http\",\"url\":\"$(. "$WORK/stage.env"; echo "$TANDEM_URL")/mcp\"}}}" \
  --allowedTools mcp__tandem__list_models
# Claude Code defers MCP tools behind its ToolSearch tool (tool_reference blocks): tandem loads them for a target of another wire.
cell "claude-code to-openai tandem-mcp" '{\\\?"models\\\?":' claude -p "RUN_TANDEM_MCP" --model to-openai \
  --mcp-config "{\"mcpServers\":{\"tandem\":{\"type\":\"http\",\"url\":\"$(. "$WORK/stage.env"; echo "$TANDEM_URL")/mcp\"}}}" \
  --allowedTools mcp__tandem__list_models
codex_mcp() { CODEX_TANDEM_MCP=1 "$here/codex.sh" exec --skip-git-repo-check "$@"; }
export -f codex_mcp
cell "codex to-anthropic tandem-mcp" '{\\\?"models\\\?":' codex_mcp -m to-anthropic "RUN_TANDEM_MCP"
# Memory: a memory added through tandem's API is recalled into a request on a route with memory on.
source "$WORK/stage.env"
curl -s -X POST "$TANDEM_URL/v1/memories" -H 'content-type: application/json' -d '{"text":"The code word is PELICAN."}' >/dev/null
cell "claude-code to-openai-memory recall" 'code word is PELICAN' claude -p "What is the code word?" --model to-openai-memory
cell "codex to-openai-memory recall" 'code word is PELICAN' codex -m to-openai-memory "What is the code word?"
if [ -s "$WORK/outbound.jsonl" ]; then echo "FAIL egress: $(cat "$WORK/outbound.jsonl")"; else echo "PASS no traffic beyond 127.0.0.1"; fi
python3 "$here/summary.py" "$WORK" | grep -A2 -E "^[A-Z]+ \S+ [45][0-9]{2} " | grep -v "^   body" | head -10 | cut -c1-300
kill "$(cat "$WORK.pid")"
