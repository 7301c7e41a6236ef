"""Fixtures for the rating tests: small studies made of PNG folders (no dataset needed) and a real
uvicorn server on a free loopback port."""
from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("fastapi", reason='the rating server needs the "rate" extra (pip install -e ".[rate]")')
httpx = pytest.importorskip("httpx")

from turbopix.rate.study import open_study  # noqa: E402

ADMIN = "test-admin-token"


def write_folder(folder: Path, n: int, seed: int, size: int = 28) -> Path:
    """``n`` small grey PNGs: a bright square on dark ground at a seeded place ("digits")."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        img = np.zeros((size, size), np.uint8)
        y, x = rng.integers(2, size - 10, 2)
        img[y:y + 8, x:x + 8] = 200 + seed
        Image.fromarray(img).save(folder / f"{i:03d}.png")
    return folder


def write_study(tmp: Path, kind: str = "2afc", *, sources: int = 1, extra: str = "", n: int = 8,
                trials: int = 6, gold_every: int = 3) -> Path:
    """A study TOML in ``tmp`` over folders of generated PNGs; returns the TOML path."""
    names = [f"gen{i}" for i in range(sources)]
    for i, name in enumerate(names):
        write_folder(tmp / name, n, seed=i + 1)
    real = 'real = "real"\n' if kind in ("2afc", "hype-time") else ""
    if real:
        write_folder(tmp / "real", n, seed=0)
    body = (f'name = "test {kind}"\nkind = "{kind}"\n{real}images_per_source = {n}\ntrials_per_rater = {trials}\n'
            f'gold_every = {gold_every}\n{extra}\n[sources]\n' + "".join(f'{s} = "{s}"\n' for s in names))
    toml = tmp / "study.toml"
    toml.write_text(body)
    return toml


def write_paired_study(tmp: Path, kind: str = "ab", *, sources: int = 2, n: int = 6, trials: int = 6,
                       gold_every: int = 3, size: tuple[int, int] = (24, 32), extra: str = "") -> Path:
    """A study with inputs: ``noisy/`` holds ``n`` grey (h, w) images named ``im0``.., each source
    folder ``outK/`` the same names as RGB PNGs whose pixel (0, 0) encodes (source K, image i), so a
    test can tell which input an output belongs to. Returns the TOML path."""
    h, w = size
    rng = np.random.default_rng(0)
    for folder, k in [("noisy", -1)] + [(f"out{k}", k) for k in range(sources)]:
        (tmp / folder).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            img = rng.integers(0, 256, (h, w, 1 if k < 0 else 3), dtype=np.uint8)
            img[0, 0] = i if k < 0 else (k, i, 0)
            Image.fromarray(img[..., 0] if k < 0 else img).save(tmp / folder / f"im{i}.png")
    body = (f'name = "paired {kind}"\nkind = "{kind}"\ninputs = "noisy"\nimages_per_source = {n}\n'
            f'trials_per_rater = {trials}\ngold_every = {gold_every}\n{extra}\n[sources]\n'
            + "".join(f'out{k} = "out{k}"\n' for k in range(sources)))
    toml = tmp / "study.toml"
    toml.write_text(body)
    return toml


@pytest.fixture
def make_study(tmp_path: Path) -> Callable[..., Path]:
    """``make_study(kind, ...)`` -> the prepared study folder."""

    def make(kind: str = "2afc", **kw: object) -> Path:
        _, folder = open_study(write_study(tmp_path, kind, **kw), progress=False)  # type: ignore[arg-type]
        return folder

    return make


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    folder: Path

    def rater(self, invite: str = "") -> "Rater":
        return Rater(self.url, invite)


class Rater:
    """One browser: a cookie jar, the CSRF token from the page, helpers for the API."""

    def __init__(self, url: str, invite: str = ""):
        self.client = httpx.Client(base_url=url, timeout=10)
        page = self.client.get("/", params={"invite": invite} if invite else None)
        self.status = page.status_code
        m = re.search(r'const csrf = "([0-9a-f]+)"', page.text)
        self.csrf = m.group(1) if m else ""

    def trial(self) -> dict:
        r = self.client.get("/api/trial")
        r.raise_for_status()
        return r.json()

    def rate(self, trial: str, choice: str, **kw: object) -> httpx.Response:
        headers = {"X-CSRF-Token": self.csrf, **kw.pop("headers", {})}  # type: ignore[dict-item]
        return self.client.post("/api/rate", json={"trial": trial, "choice": choice, "rt_ms": 400.0}, headers=headers, **kw)


@pytest.fixture
def serve() -> Iterator[Callable[[Path], Server]]:
    """``serve(folder)`` -> a running uvicorn server (in a thread) for the study folder."""
    import uvicorn

    from turbopix.rate.app import create_app

    running: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(folder: Path) -> Server:
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(create_app(folder, admin_token=ADMIN), host="127.0.0.1", port=port,
                                               log_level="warning", lifespan="on"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        running.append((server, thread))
        return Server(f"http://127.0.0.1:{port}", folder)

    yield start
    for server, thread in running:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def admin_token() -> str:
    return ADMIN
