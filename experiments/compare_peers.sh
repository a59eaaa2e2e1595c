#!/usr/bin/env bash
# compare_peers.sh - regenerate experiments/RESULTS.md: our server against C epoll,
# Bun and Node, measured by the C load generator echoload in one run.
#
# usage: experiments/compare_peers.sh [PATH_TO_BENCH_KIT]   (default: ../shared/bench)
#
# The measuring kit (echoload, peers.sh, reference servers) is not part of
# this project; it is copied to a temporary directory, built and run there,
# so the kit itself stays read-only and out of this repository. Loopback
# only; every cell stops by itself (about 8 minutes in all).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
project=$(dirname "$here")
kit=${1:-$project/../shared/bench}
[ -x "$kit/peers.sh" ] || { echo "error: no measuring kit at $kit" >&2; exit 2; }

work=$(mktemp -d -t echo-peers.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -r "$kit/." "$work/"
chmod -R u+w "$work"
(cd "$work" && ./setup.sh >&2)

# The command is the compiled server's, run through deno: same flags as
# tools/compile.ts bakes in (network permission, 1 MiB young generation).
cmd='deno run --allow-net --v8-flags=--max-semi-space-size=1 server.ts --host 127.0.0.1 --port {port} --quiet'
(cd "$work" && REPEAT=${REPEAT:-2} SERVER_CMD="$cmd" SERVER_NAME=ours SERVER_CWD="$project" \
  OUT="$work/results.jsonl" ./peers.sh '^(c_epoll|bun_listen|node_pipe|ours)$') > "$work/table.md"

{
  echo "# Comparison run $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Load generator: echoload (C, from the measuring kit). Deno $(deno --version | head -1 | cut -d' ' -f2),"
  echo "Node $(node --version), Bun $("$work/.tools/node_modules/.bin/bun" --version 2>/dev/null || echo n/a)."
  echo
  cat "$work/table.md"
  echo
  # peers.sh tabulates p99 only; the fairness target is about p99.9, which
  # echoload records in the raw results.
  echo "Ping-pong 500×1 KiB latency per repetition (from the raw echoload results):"
  echo
  deno eval --quiet '
    const lines = Deno.readTextFileSync(Deno.args[0]).split("\n").filter(Boolean);
    const ms = (us) => (us / 1000).toLocaleString("en-US", { maximumFractionDigits: 2 });
    console.log("| server | rtt/s | p50 ms | p99 ms | p99.9 ms | max ms |");
    console.log("|---|---|---|---|---|---|");
    for (const row of lines.map((line) => JSON.parse(line))) {
      if (row.cell !== "pp500" || row.lat_us === undefined) continue;
      const l = row.lat_us;
      console.log(`| ${row.server} | ${Math.round(row.rtt_per_s).toLocaleString("en-US")} | ${ms(l.p50)} | ${ms(l.p99)} | ${ms(l.p999)} | ${ms(l.max)} |`);
    }
  ' "$work/results.jsonl"
} > "$here/RESULTS.md"
# Keep the repository `deno fmt` clean (deno task check) after a regeneration.
deno fmt --quiet "$here/RESULTS.md"
echo "wrote $here/RESULTS.md" >&2
