#!/usr/bin/env python3
"""Prints what a CLI sent through the stage (client-requests.jsonl) and what upstreams got."""
import json, sys, os
work = sys.argv[1]
for line in open(os.path.join(work, "client-requests.jsonl")):
    e = json.loads(line)
    if "upgrade" in e:
        print(e["method"], e["path"], "upgrade:", e["upgrade"]); continue
    b = e["body"] if isinstance(e["body"], dict) else {}
    keys = {k: (v if k not in ("messages", "system", "tools", "input", "instructions") else f"<{len(v)}>") for k, v in b.items()}
    print(e["method"], e["path"], e["status"], f'{e["ms"]}ms', e["tandem"])
    print("   body:", json.dumps(keys)[:600])
    if e["status"] >= 400: print("   answer:", e["answer"][:400])
p = os.path.join(work, "upstream-requests.jsonl")
if os.path.exists(p):
    for line in open(p):
        e = json.loads(line); b = e["body"] or {}
        keys = {k: (v if k not in ("messages", "system", "tools", "input") else f"<{len(v)}>") for k, v in b.items()}
        print("UPSTREAM", e["upstream"], e["path"], json.dumps(keys)[:500])
p = os.path.join(work, "outbound.jsonl")
if os.path.exists(p): print("OUTBOUND ATTEMPTS:", open(p).read())
