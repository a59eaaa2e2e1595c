#!/usr/bin/env python3
"""TLS against Go, same run: Go crypto/tls (the kit's go_tls_echo) vs our
server with its default TLS path and with --handshake-timeout 0s (Deno's own
listener), each loaded by `echo-client bench --tls` with every byte verified;
servers on CPU 0, the load on CPU 1, rounds interleaved.

usage: experiments/tls_vs_go.py [ROUNDS] (run from the repository root; the
kit built with ../shared/bench/build.sh, Go installed; KIT=DIR to point
elsewhere)
"""
import json, os, subprocess, tempfile, time, statistics, socket, sys
ROOT = os.getcwd()
KIT = os.environ.get("KIT", os.path.join(ROOT, "..", "shared", "bench"))
D = tempfile.mkdtemp(prefix="tls-vs-go-")
subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-keyout", f"{D}/key.pem", "-out", f"{D}/cert.pem", "-days", "2", "-subj", "/CN=127.0.0.1",
    "-addext", "subjectAltName=IP:127.0.0.1", "-addext", "basicConstraints=critical,CA:FALSE"],
    check=True, capture_output=True)
SERVERS = {
  "go": ["taskset", "-c", "0", f"{KIT}/peers/go_tls_echo", "{port}", f"{D}/cert.pem", f"{D}/key.pem", "127.0.0.1"],
  "ours": ["taskset", "-c", "0", "deno", "run", "-A", "--v8-flags=--max-semi-space-size=4", f"{ROOT}/server.ts", "--port", "{port}", "--tls-cert", f"{D}/cert.pem", "--tls-key", f"{D}/key.pem", "--quiet"],
  "direct": ["taskset", "-c", "0", "deno", "run", "-A", "--v8-flags=--max-semi-space-size=4", f"{ROOT}/server.ts", "--port", "{port}", "--tls-cert", f"{D}/cert.pem", "--tls-key", f"{D}/key.pem", "--handshake-timeout", "0s", "--quiet"],
  # node:tls started on accepted node:net sockets: fast, but unbounded
  # (experiments/tls_native_upgrade.ts).
  "upgrade": ["taskset", "-c", "0", "deno", "run", "-A", f"{ROOT}/experiments/tls_upgrade_echo.ts", "{port}", f"{D}/cert.pem", f"{D}/key.pem"],
}
CELLS = {
  "pp1": ["--connections", "1", "--size", "64"],
  "pp50": ["--connections", "50", "--size", "64"],
  "pp500": ["--connections", "500", "--size", "1KiB"],
  "st8": ["--mode", "stream", "--connections", "8", "--size", "64KiB"],
}
ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p
def wait_port(port):
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close(); return
        except OSError: time.sleep(0.05)
    raise SystemExit(f"no listener on {port}")
results = {}
for rnd in range(ROUNDS):
    for cell, args in CELLS.items():
        for name, cmd in SERVERS.items():
            port = free_port()
            proc = subprocess.Popen([c.replace("{port}", str(port)) for c in cmd], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                wait_port(port)
                out = subprocess.run(["taskset", "-c", "1", "deno", "run", "-A", "--v8-flags=--min-semi-space-size=16", f"{ROOT}/client.ts", "bench", "--port", str(port), "--tls", "--ca", f"{D}/cert.pem", "--duration", "3s", "--json", "--quiet", *args], capture_output=True, text=True, timeout=60)
                r = json.loads(out.stdout)
                value = r["mb_per_s"] if cell == "st8" else r["per_s"]
                p999 = (r.get("latency_us") or {}).get("p999")
                results.setdefault((cell, name), []).append((value, p999, r["errors"] + r["mismatches"]))
            finally:
                proc.terminate(); proc.wait()
print("| cell | Go TLS | ours default | ratio | ours direct | ratio | upgrade | ratio | p99.9 Go / default / direct / upgrade | errors |")
print("|---|---|---|---|---|---|---|---|---|---|")
for cell in CELLS:
    go = results[(cell, "go")]; ours = results[(cell, "ours")]; direct = results[(cell, "direct")]; upgrade = results[(cell, "upgrade")]
    ratios = lambda xs: [x[0] / g[0] for x, g in zip(xs, go)]
    med = lambda xs: statistics.median(x[0] for x in xs)
    p = lambda xs: statistics.median(x[1] for x in xs) / 1000 if xs[0][1] is not None else float("nan")
    unit = "MB/s" if cell == "st8" else "/s"
    cols = []
    for xs in (ours, direct, upgrade):
        r = ratios(xs)
        cols.append(f"{med(xs):,.0f}{unit} | {statistics.median(r):.2f} [{min(r):.2f}-{max(r):.2f}]")
    print(f"| {cell} | {med(go):,.0f}{unit} | {' | '.join(cols)} | {p(go):.1f} / {p(ours):.1f} / {p(direct):.1f} / {p(upgrade):.1f} ms | {sum(x[2] for x in go+ours+direct+upgrade)} |")
