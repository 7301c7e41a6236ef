"""The rating web application (FastAPI): raters' pages and API, images by opaque id, admin pages.

Raters need no account: the first visit sets a session cookie (a random id, ``HttpOnly``,
``SameSite=Strict``) and gives the page a CSRF token. A rating is a ``POST /api/rate`` with a JSON
body ``{"trial": ID, "choice": ..., "rt_ms": ...}``, the ``X-CSRF-Token`` header, and (when the
browser sends one) an ``Origin`` equal to this server's. The answer is sent only after the rating
is committed (``db.py``: WAL, synchronous=FULL). Anything malformed or not the rater's own pending
trial gets a 4xx and changes nothing: a body over ``MAX_BODY`` bytes (413), not JSON (415/422),
wrong types or extra keys (422), a missing or wrong CSRF token or a foreign origin (403), a trial
the rater was never shown or another rater's trial (404, the same answer, so ids cannot be probed),
a replay (409).

Images are served from the study's own ``images/`` folder only, by 32-hex-digit ids that must be in
the database and in a trial shown to the asking rater (as a candidate or as the input beside them): a path such as ``../../etc/passwd`` never
reaches the file system. Admin pages need the admin token printed when the server starts (as
``?token=`` once, which sets an admin cookie, or as ``Authorization: Bearer``).
"""
from __future__ import annotations

import hmac
import json
import random
import re
import secrets
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from . import db
from .study import DB_NAME, IMAGES, StudyConfig, question, stored_config
from .trials import CHOICES, Pool, pending_or_new, score

MAX_BODY = 4096  # bytes: a rating is under 200
RATER_COOKIE, ADMIN_COOKIE = "turbopix_rater", "turbopix_admin"
IMAGE_ID = re.compile(r"[0-9a-f]{32}")
TEMPLATES = Environment(loader=PackageLoader("turbopix.rate", "templates"), autoescape=select_autoescape(["html"]))


class RatingIn(BaseModel):
    """The body of ``POST /api/rate``: strict types, no other keys."""

    model_config = ConfigDict(extra="forbid", strict=True)
    trial: str
    choice: str
    rt_ms: float | None = None

    @field_validator("trial")
    @classmethod
    def _trial_id(cls, v: str) -> str:
        if not IMAGE_ID.fullmatch(v):
            raise ValueError("not a trial id")
        return v

    @field_validator("rt_ms")
    @classmethod
    def _rt(cls, v: float | None) -> float | None:
        if v is not None and not (0 <= v <= 3.6e6):
            raise ValueError("rt_ms must be between 0 and 3600000")
        return v


class Study:
    """The open study: its folder, declaration, image pool and one database connection.

    One connection behind a lock: SQLite serialises writers anyway, and a lock held for the few
    milliseconds of a transaction (fsync included) is simpler and faster than a connection pool
    contending for the file lock."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.conn = db.connect(self.folder / DB_NAME)
        self.config: StudyConfig = stored_config(self.conn)
        self.pool = Pool.load(self.conn)
        self.lock = threading.Lock()
        self.rng = random.SystemRandom()

    def close(self) -> None:
        self.conn.close()


def create_app(folder: str | Path, *, admin_token: str) -> FastAPI:
    study = Study(folder)
    cfg = study.config

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        study.close()

    app = FastAPI(title=cfg.name, docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.study = study

    def rater_of(request: Request) -> dict[str, Any] | None:
        rid = request.cookies.get(RATER_COOKIE, "")
        if not IMAGE_ID.fullmatch(rid):
            return None
        with study.lock:
            row = study.conn.execute("SELECT id, csrf FROM raters WHERE id = ?", (rid,)).fetchone()
        return dict(row) if row else None

    def trial_view(rater: str) -> dict[str, Any]:
        with study.lock:
            trial, done = pending_or_new(study.conn, cfg, study.pool, rater, study.rng)
        view: dict[str, Any] = {"done": done, "total": cfg.trials_per_rater, "kind": cfg.kind,
                                "question": question(cfg), "choices": list(CHOICES[cfg.kind])}
        if trial is None:
            return {**view, "trial": None}
        images = [f"/img/{trial['left_image']}"] + ([f"/img/{trial['right_image']}"] if trial["right_image"] else [])
        if trial["input_image"]:  # a study with inputs: the input shown beside the candidates
            view["input"] = f"/img/{trial['input_image']}"
        return {**view, "trial": trial["id"], "images": images, "exposure_ms": trial["exposure_ms"]}

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Response:
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            return JSONResponse({"error": f"request body over {MAX_BODY} bytes"}, status_code=413)
        response = await call_next(request)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.get("/", response_class=HTMLResponse)
    def page(request: Request, invite: str = "") -> Response:
        rater = rater_of(request)
        new = rater is None
        if new:
            if cfg.invite and not hmac.compare_digest(invite.encode(), cfg.invite.encode()):
                return HTMLResponse(TEMPLATES.get_template("closed.html").render(name=cfg.name), status_code=403)
            rater = {"id": secrets.token_hex(16), "csrf": secrets.token_hex(16)}
            with study.lock, db.transaction(study.conn):
                study.conn.execute("INSERT INTO raters(id, csrf, created) VALUES (?, ?, ?)",
                                   (rater["id"], rater["csrf"], db.now()))
        view = trial_view(rater["id"])
        html = TEMPLATES.get_template("rate.html").render(name=cfg.name, csrf=rater["csrf"], view=view,
                                                          view_json=json.dumps(view).replace("<", "\\u003c"))
        response = HTMLResponse(html)
        if new:
            response.set_cookie(RATER_COOKIE, rater["id"], max_age=90 * 86400, httponly=True, samesite="strict")
        return response

    @app.get("/api/trial")
    def api_trial(request: Request) -> dict[str, Any]:
        rater = rater_of(request)
        if rater is None:
            raise HTTPException(401, "no rater session: open the study page first")
        return trial_view(rater["id"])

    @app.post("/api/rate")
    async def api_rate(request: Request) -> dict[str, Any]:
        body = await read_body(request)  # size-limited; everything else runs off the event loop
        return await run_in_threadpool(rate, request, body)

    def rate(request: Request, body: bytes) -> dict[str, Any]:
        rater = rater_of(request)
        if rater is None:
            raise HTTPException(401, "no rater session: open the study page first")
        check_origin(request)
        if not hmac.compare_digest(request.headers.get("x-csrf-token", "").encode(), rater["csrf"].encode()):
            raise HTTPException(403, "missing or wrong CSRF token")
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            raise HTTPException(415, "send the rating as application/json")
        try:
            rating = RatingIn.model_validate_json(body)
        except ValidationError as e:
            raise HTTPException(422, e.errors(include_url=False, include_input=False, include_context=False)) from None
        if rating.choice not in CHOICES[cfg.kind]:
            raise HTTPException(422, f"choice must be one of {', '.join(CHOICES[cfg.kind])} for a {cfg.kind} study")
        with study.lock, db.transaction(study.conn):
            trial = study.conn.execute("SELECT * FROM trials WHERE id = ? AND rater = ?", (rating.trial, rater["id"])).fetchone()
            if trial is None:  # never shown to this rater (or another rater's): the same answer for both
                raise HTTPException(404, "no such trial for this rater")
            if study.conn.execute("SELECT 1 FROM ratings WHERE trial = ?", (rating.trial,)).fetchone():
                raise HTTPException(409, "this trial is already rated")
            study.conn.execute(
                "INSERT INTO ratings(trial, rater, choice, correct, rt_ms, created) VALUES (?, ?, ?, ?, ?, ?)",
                (rating.trial, rater["id"], rating.choice, score(cfg, trial, rating.choice), rating.rt_ms, db.now()))
            done = study.conn.execute("SELECT COUNT(*) FROM ratings WHERE rater = ?", (rater["id"],)).fetchone()[0]
        return {"ok": True, "done": done, "total": cfg.trials_per_rater}  # sent after COMMIT returned

    @app.get("/img/{image_id}")
    def image(image_id: str, request: Request) -> Response:
        rater = rater_of(request)
        if not IMAGE_ID.fullmatch(image_id) or rater is None:
            raise HTTPException(404, "no such image")
        with study.lock:
            shown = study.conn.execute(
                "SELECT 1 FROM trials WHERE rater = ? AND ? IN (left_image, right_image, input_image) LIMIT 1",
                (rater["id"], image_id)).fetchone()
        if not shown:
            raise HTTPException(404, "no such image")
        return FileResponse(study.folder / IMAGES / f"{image_id}.png", media_type="image/png",
                            headers={"Cache-Control": "private, max-age=3600"})

    # ------------------------------------------------------------------ admin
    def is_admin(request: Request) -> bool:
        given = request.cookies.get(ADMIN_COOKIE, "")
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            given = auth[7:].strip()
        return bool(given) and hmac.compare_digest(given.encode(), admin_token.encode())

    def need_admin(request: Request) -> None:
        if not is_admin(request):
            raise HTTPException(401, "admin token required: open the admin link printed by 'turbopix rate serve'")

    @app.get("/admin/login")
    def admin_login(token: str = "") -> Response:
        if not hmac.compare_digest(token.encode(), admin_token.encode()):
            raise HTTPException(401, "wrong admin token")
        response = RedirectResponse("/admin", status_code=303)
        response.set_cookie(ADMIN_COOKIE, admin_token, httponly=True, samesite="strict", path="/admin")
        return response

    @app.get("/admin", response_class=HTMLResponse)
    def admin(request: Request) -> str:
        need_admin(request)
        with study.lock:
            progress = progress_rows(study.conn)
        return TEMPLATES.get_template("admin.html").render(name=cfg.name, cfg=cfg, progress=progress)

    @app.get("/admin/results", response_class=HTMLResponse)
    def results(request: Request) -> str:
        need_admin(request)
        from .analysis import summarise
        from .report import render_html

        with study.lock:
            records = db.records(study.conn)
        return render_html(summarise(cfg, records))

    @app.get("/admin/export.json")
    def export_json(request: Request) -> Response:
        need_admin(request)
        with study.lock:
            records = db.records(study.conn)
        return JSONResponse({"study": cfg.name, "kind": cfg.kind, "ratings": records})

    @app.get("/admin/export.csv")
    def export_csv(request: Request) -> Response:
        need_admin(request)
        from .report import to_csv

        with study.lock:
            records = db.records(study.conn)
        return Response(to_csv(records), media_type="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="ratings.csv"'})

    return app


def check_origin(request: Request) -> None:
    """A browser names the page a POST comes from; it must be this server (no cross-site POST)."""
    origin = request.headers.get("origin")
    if origin is None:
        return  # not a browser, or a same-origin request from an old one: the CSRF token decides
    host = request.headers.get("host", "")
    if origin not in (f"http://{host}", f"https://{host}"):
        raise HTTPException(403, "cross-origin request refused")


async def read_body(request: Request) -> bytes:
    """The body, refused past ``MAX_BODY`` bytes even when no Content-Length announced it."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise HTTPException(413, f"request body over {MAX_BODY} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def progress_rows(conn: Any) -> list[dict[str, Any]]:
    """Per rater: trials rated, attention checks passed/failed, last activity."""
    rows = conn.execute(
        """SELECT r.id AS rater, COUNT(g.trial) AS rated,
                  SUM(CASE WHEN t.gold = 1 AND g.correct = 1 THEN 1 ELSE 0 END) AS gold_passed,
                  SUM(CASE WHEN t.gold = 1 AND g.correct = 0 THEN 1 ELSE 0 END) AS gold_failed,
                  MAX(g.created) AS last
           FROM raters r LEFT JOIN ratings g ON g.rater = r.id LEFT JOIN trials t ON t.id = g.trial
           GROUP BY r.id ORDER BY r.created"""
    ).fetchall()
    return [{**dict(row), "rater": row["rater"][:8]} for row in rows]
