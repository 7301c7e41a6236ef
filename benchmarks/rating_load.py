"""Load and crash test of the rating server: many simulated raters, then SIGKILL under load.

1. a study of synthetic 28 px images is prepared in a temporary folder and served by a real
   ``turbopix rate serve`` process on 127.0.0.1 (loopback only);
2. ``--raters`` simulated raters (one httpx client and cookie each) loop for ``--seconds``: fetch
   the trial, fetch its two images, post a rating. Requests/s and latency percentiles are reported,
   and the ratings in the database must be exactly the ones acknowledged;
3. the raters start again, the server is killed with SIGKILL after ``--kill-after`` seconds while
   requests are in flight, and restarted: every rating acknowledged before the kill must be in the
   database (a rating committed whose answer was lost in the kill may be there too: counted apart).

    python benchmarks/rating_load.py --raters 50 --seconds 60 --kill-after 10 [--json out.json]

Exit status 1 when an acknowledged rating is missing. The numbers depend on what else the machine
runs (the client shares the CPU with the server): the load average is printed with them.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from PIL import Image


def make_study(root: Path, n: int = 50) -> Path:
    rng = np.random.default_rng(0)
    for name in ("real", "gen"):
        (root / name).mkdir()
        for i in range(n):
            Image.fromarray(rng.integers(0, 256, (28, 28), dtype=np.uint8)).save(root / name / f"{i:03d}.png")
    toml = root / "study.toml"
    toml.write_text('name = "load test"\nkind = "2afc"\nreal = "real"\nimages_per_source = 50\n'
                    'trials_per_rater = 10000\ngold_every = 10\n[sources]\ngen = "gen"\n')
    return toml


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(toml: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "turbopix", "rate", "serve", "--study", str(toml), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/trial", timeout=1).status_code == 401:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start within 60 s")


class Stats:
    def __init__(self) -> None:
        self.latency: dict[str, list[float]] = {"trial": [], "image": [], "rate": []}
        self.acked: set[str] = set()
        self.errors = 0

    async def timed(self, kind: str, request) -> httpx.Response:
        t = time.perf_counter()
        r = await request
        self.latency[kind].append(time.perf_counter() - t)
        return r


async def rater(url: str, stop: asyncio.Event, stats: Stats, seed: int) -> None:
    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=httpx.Limits(max_connections=2)) as client:
        try:
            page = await client.get("/")
            csrf = re.search(r'const csrf = "([0-9a-f]+)"', page.text).group(1)
            headers = {"X-CSRF-Token": csrf}
            while not stop.is_set():
                view = (await stats.timed("trial", client.get("/api/trial"))).json()
                for image in view["images"]:
                    await stats.timed("image", client.get(image))
                await asyncio.sleep(rng.uniform(0, 0.02))  # a (very fast) human decision
                r = await stats.timed("rate", client.post("/api/rate", headers=headers, json={
                    "trial": view["trial"], "choice": rng.choice(["left", "right"]), "rt_ms": 300.0}))
                if r.status_code == 200:
                    stats.acked.add(view["trial"])  # acknowledged: must be in the database from now on
                else:
                    stats.errors += 1
        except (httpx.TransportError, AttributeError):
            if not stop.is_set():
                stats.errors += 1  # the server went away (phase 3) or answered garbage


async def run_raters(url: str, n: int, seconds: float, stats: Stats, kill: subprocess.Popen | None = None) -> float:
    stop = asyncio.Event()
    tasks = [asyncio.create_task(rater(url, stop, stats, i)) for i in range(n)]
    t0 = time.perf_counter()
    await asyncio.sleep(seconds)
    if kill is not None:
        kill.send_signal(signal.SIGKILL)  # mid-flight: requests are still in progress
        kill.wait()
    stop.set()
    await asyncio.wait(tasks, timeout=60)
    return time.perf_counter() - t0


def stored(db: Path) -> set[str]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {t for (t,) in conn.execute("SELECT trial FROM ratings")}
    finally:
        conn.close()


def pct(values: list[float], q: float) -> float:
    return 1000 * float(np.percentile(values, q)) if values else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--raters", type=int, default=50, help="concurrent simulated raters")
    ap.add_argument("--seconds", type=float, default=60, help="length of the load phase (at most 600)")
    ap.add_argument("--kill-after", type=float, default=10, help="seconds of load before the SIGKILL")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()
    if not (1 <= args.raters <= 500 and 0 < args.seconds <= 600 and 0 < args.kill_after <= 600):
        ap.error("--raters 1-500, --seconds and --kill-after in (0, 600]")
    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="rating-load-") as tmp:
        toml = make_study(Path(tmp))
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = start_server(toml, port)
        db = Path(tmp) / "study" / "study.db"
        try:
            load = Stats()
            elapsed = asyncio.run(run_raters(url, args.raters, args.seconds, load))
            in_db = stored(db)
            requests = sum(len(v) for v in load.latency.values())
            result = {
                "raters": args.raters, "seconds": round(elapsed, 1), "requests": requests,
                "requests_per_s": round(requests / elapsed, 1), "ratings_per_s": round(len(load.acked) / elapsed, 1),
                "latency_ms": {k: {"p50": round(pct(v, 50), 1), "p95": round(pct(v, 95), 1), "p99": round(pct(v, 99), 1)}
                               for k, v in load.latency.items()},
                "p95_all_ms": round(pct([x for v in load.latency.values() for x in v], 95), 1),
                "acknowledged": len(load.acked), "stored": len(in_db), "errors": load.errors,
                "missing": len(load.acked - in_db), "unacknowledged_stored": len(in_db - load.acked),
            }
            crash = Stats()
            asyncio.run(run_raters(url, args.raters, args.kill_after, crash, kill=server))
            server = start_server(toml, port)  # restart on the same study
            after = stored(db)
            acked = load.acked | crash.acked
            result["kill"] = {"acknowledged_before_kill": len(crash.acked), "stored_after_restart": len(after),
                              "missing": len(acked - after),
                              "stored_not_acknowledged": len(after - acked)}
            check = Stats()  # the restarted server takes ratings again
            asyncio.run(run_raters(url, 2, 1.0, check))
            result["kill"]["ratings_after_restart"] = len(check.acked)
        finally:
            server.kill()
            server.wait()
    result["loadavg_before_after"] = [round(load0[0], 2), round(os.getloadavg()[0], 2)]
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    ok = result["missing"] == 0 and result["kill"]["missing"] == 0 and result["kill"]["ratings_after_restart"] > 0
    print("OK: every acknowledged rating is stored" if ok else "FAIL: acknowledged ratings are missing", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
