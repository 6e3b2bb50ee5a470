#!/usr/bin/env bash
# Runs the Codex CLI against the stage started by stage.ts, with a throwaway CODEX_HOME whose
# config.toml names tandem as the model provider (Responses wire) and turns off update checks,
# analytics, feedback and OpenTelemetry; any other traffic is caught by the stage's egress trap.
# CODEX_WEBSOCKETS=true makes Codex speak the Responses API's WebSocket mode to tandem.
#   CLIENTS=/tmp/clients WORK=/tmp/rc/w1 scripts/real-clients/codex.sh exec -m to-openai "Say hi"
set -euo pipefail
: "${CLIENTS:?where @openai/codex is installed}" "${WORK:?workdir of the stage}"
source "$WORK/stage.env"
export CODEX_HOME="$WORK/codex-home" && mkdir -p "$CODEX_HOME" "$WORK/sandbox"
cat > "$CODEX_HOME/config.toml" <<TOML
model = "to-openai"
model_provider = "tandem"
check_for_update_on_startup = false

[model_providers.tandem]
name = "tandem"
base_url = "$TANDEM_URL/v1"
wire_api = "responses"
env_key = "TANDEM_API_KEY"
supports_websockets = ${CODEX_WEBSOCKETS:-false}

[features]
plugins = false

[analytics]
enabled = false

[feedback]
enabled = false

[otel]
exporter = "none"
trace_exporter = "none"
metrics_exporter = "none"
TOML
# CODEX_TANDEM_MCP=1 gives Codex tandem itself as an MCP server (its /mcp).
if [ "${CODEX_TANDEM_MCP:-0}" = 1 ]; then
  printf '\n[mcp_servers.tandem]\nurl = "%s/mcp"\n' "$TANDEM_URL" >> "$CODEX_HOME/config.toml"
fi
export TANDEM_API_KEY="${TANDEM_API_KEY:-unused}"
export HTTPS_PROXY="$TRAP_URL" HTTP_PROXY="$TRAP_URL" NO_PROXY=127.0.0.1,localhost
cd "$WORK/sandbox"
exec "$CLIENTS/node_modules/.bin/codex" "$@"
