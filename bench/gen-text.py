#!/usr/bin/python3
"""bench/gen-text.py SIZE_MIB: write SIZE_MIB MiB of deterministic log-like
text to stdout (web server access lines and application messages with
varying numbers, paths and addresses), as a realistic bulk payload for the
recorder: a `cat` of logs or a database dump, not /dev/zero."""
import random
import sys

size = int(sys.argv[1]) << 20
rng = random.Random(5)
paths = ["/api/v1/items", "/api/v1/users", "/static/app.js", "/login", "/health", "/api/v2/orders",
         "/metrics", "/img/logo.png", "/search", "/api/v1/items/export"]
agents = ["curl/7.88.1", "Mozilla/5.0 (X11; Linux x86_64) Firefox/119.0", "Prometheus/2.45.0",
          "python-requests/2.31.0", "Go-http-client/1.1"]
words = ("order invoice user session cache miss hit retry timeout queue worker shard replica commit "
         "rollback lock acquired released connection pool exhausted refreshed token expired").split()
out = sys.stdout.buffer
n = 0
t = 1763700000.0
buf = []
while n < size:
    t += rng.expovariate(200.0)
    ts = f"2025-11-21T{int(t) // 3600 % 24:02d}:{int(t) // 60 % 60:02d}:{t % 60:09.6f}Z"
    if rng.random() < 0.7:
        ip = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        p = rng.choice(paths)
        if rng.random() < 0.5:
            p += f"/{rng.randrange(100000)}?page={rng.randrange(50)}"
        line = (f'{ts} web{rng.randrange(1, 9):02d} nginx[{rng.randrange(900, 999)}]: {ip} - - '
                f'"{rng.choice(["GET", "GET", "GET", "POST", "PUT"])} {p} HTTP/1.1" '
                f'{rng.choice([200, 200, 200, 304, 404, 500])} {rng.randrange(40, 90000)} '
                f'{rng.random():.3f} "{rng.choice(agents)}"\n')
    else:
        line = (f"{ts} app{rng.randrange(1, 5)} worker[{rng.randrange(1000, 40000)}]: "
                f"{rng.choice(['INFO', 'INFO', 'WARN', 'ERROR', 'DEBUG'])} "
                f"{' '.join(rng.choice(words) for _ in range(rng.randrange(3, 12)))} "
                f"id={rng.getrandbits(64):016x} took={rng.randrange(1, 5000)}ms\n")
    b = line.encode()
    buf.append(b)
    n += len(b)
    if len(buf) >= 4096:
        out.write(b"".join(buf))
        buf = []
out.write(b"".join(buf))
