"""The study database: SQLite through the standard library.

Durability: ``journal_mode=WAL`` with ``synchronous=FULL``. In WAL mode a commit appends to the
write-ahead log; with FULL the log is fsync'ed at every commit, so a rating the server has
acknowledged survives not only the server being killed (SIGKILL: NORMAL would already survive
that, the log being in the OS cache) but also a power cut or kernel crash before the OS flushes
its cache. A rating is a few hundred bytes written once per human decision (seconds apart per
rater), so one fsync each costs nothing a rater could notice (docs/rating.md has the measured
latency under load). WAL lets the admin pages and ``rate report`` read while raters write.

Every write is one ``BEGIN IMMEDIATE ... COMMIT`` transaction, and the server answers only after
COMMIT returned. Tables: ``meta`` (the declaration), ``images`` (opaque id -> source, item),
``raters`` (session id, CSRF token), ``trials`` (what was shown to whom, the input beside the
candidates included in a study with inputs; created when shown) and
``ratings`` (at most one per trial: the primary key turns a replay into an error, not a duplicate).
"""
from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS images(id TEXT PRIMARY KEY, source TEXT NOT NULL, item INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS raters(id TEXT PRIMARY KEY, csrf TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS trials(
    id TEXT PRIMARY KEY, rater TEXT NOT NULL REFERENCES raters(id), seq INTEGER NOT NULL,
    gold INTEGER NOT NULL, left_image TEXT NOT NULL REFERENCES images(id), right_image TEXT REFERENCES images(id),
    answer TEXT, exposure_ms REAL, shown REAL NOT NULL, input_image TEXT REFERENCES images(id), UNIQUE(rater, seq));
CREATE TABLE IF NOT EXISTS ratings(
    trial TEXT PRIMARY KEY REFERENCES trials(id), rater TEXT NOT NULL REFERENCES raters(id),
    choice TEXT NOT NULL, correct INTEGER, rt_ms REAL, created REAL NOT NULL);
CREATE INDEX IF NOT EXISTS trials_rater ON trials(rater);
CREATE INDEX IF NOT EXISTS ratings_rater ON ratings(rater);
"""


def connect(path: str | Path, *, readonly: bool = False) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL, synchronous=FULL."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"study database not found: {path}")
    uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False, timeout=30)
    conn.row_factory = sqlite3.Row
    if not readonly:
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    if not readonly:
        _add_columns(conn)
    return conn


def _add_columns(conn: sqlite3.Connection) -> None:
    """Bring a study prepared by an older turbopix up to the current tables (columns only added,
    all NULL for the old rows, so old ratings read as before)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(trials)")}
    if columns and "input_image" not in columns:
        conn.execute("ALTER TABLE trials ADD COLUMN input_image TEXT REFERENCES images(id)")


def create(path: str | Path) -> sqlite3.Connection:
    Path(path).touch()
    conn = connect(path)
    conn.executescript(SCHEMA)
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` (take the write lock up front, so two writers never deadlock on an
    upgrade) ... ``COMMIT``; ROLLBACK on any error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def set_meta(conn: sqlite3.Connection, values: dict[str, str]) -> None:
    with transaction(conn):
        conn.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", values.items())


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else row[0]


def add_images(conn: sqlite3.Connection, rows: Iterable[tuple[str, str, int]]) -> None:
    with transaction(conn):
        conn.executemany("INSERT INTO images(id, source, item) VALUES (?, ?, ?)", rows)


def now() -> float:
    return time.time()


def records(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """One dict per rating, joined with its trial and the sources of its images: what the
    statistics and the exports read."""
    rows = conn.execute(
        """SELECT r.rater, r.trial, t.seq, t.gold, t.exposure_ms, t.answer, r.choice, r.correct, r.rt_ms, r.created,
                  t.left_image, t.right_image, li.source AS left_source, li.item AS left_item,
                  ri.source AS right_source, ri.item AS right_item
           FROM ratings r JOIN trials t ON t.id = r.trial
           JOIN images li ON li.id = t.left_image LEFT JOIN images ri ON ri.id = t.right_image
           ORDER BY r.created, r.rowid"""
    ).fetchall()
    return [dict(row) for row in rows]
