"""``turbopix rate``: human rating studies (serve, report, simulate).

    turbopix rate serve --study study.toml              # http://127.0.0.1:8000, prints the admin link
    turbopix rate serve --study study.toml --host 0.0.0.0 --port 8080   # share on the LAN
    turbopix rate report study/study.db                 # tables + results.json, ratings.csv, report.html
    turbopix rate simulate --repeats 200                # the statistics checked on simulated raters

The web server needs the ``rate`` extra: pip install -e ".[rate]". docs/rating.md has the study
file format and what each kind of study measures.
"""
from __future__ import annotations

import argparse
import secrets
import sys
from typing import Any

from .common import CLIError, formatter

RATE_EXTRA = 'the rating server needs the "rate" extra: pip install -e ".[rate]" (fastapi, uvicorn)'


def add_commands(sub: Any) -> None:
    p = sub.add_parser("rate", help="human rating studies: serve a study, report its results, check the statistics",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    rate = p.add_subparsers(dest="rate_command", metavar="SUBCOMMAND")
    rate.required = True

    s = rate.add_parser("serve", help="prepare a study (once) and serve it to raters", formatter_class=formatter,
                        description="Prepare the study folder declared by --study (images drawn once and stored as "
                        "PNG files), then serve the rating pages. Prints the raters' link and an admin link with a "
                        "fresh admin token. Ratings are committed before they are acknowledged; stop with Ctrl-C "
                        "and start again to continue the same study.")
    s.add_argument("--study", required=True, help="the study declaration (TOML); see docs/rating.md")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on; 0.0.0.0 shares the study on the LAN")
    s.add_argument("--port", type=int, default=8000, help="port to listen on")
    s.add_argument("--prepare-only", action="store_true", help="prepare the study folder and exit")
    s.set_defaults(func=cmd_serve)

    r = rate.add_parser("report", help="tables, JSON/CSV exports and an HTML page of a study's results",
                        formatter_class=formatter)
    r.add_argument("db", metavar="STUDY.db", help="the study database (study folder/study.db)")
    r.add_argument("--out", help="output folder (default: report/ beside the database)")
    r.add_argument("--boot", type=int, default=2000, help="bootstrap replicates for the 95%% intervals")
    r.add_argument("--overwrite", action="store_true", help="replace an existing report")
    r.set_defaults(func=cmd_report)

    m = rate.add_parser("simulate", help="check the statistics on simulated raters with known truth",
                        formatter_class=formatter)
    m.add_argument("--kind", default="all", help="which statistics to check (all, or one kind, e.g. 2afc)")
    m.add_argument("--repeats", type=int, default=200, help="simulated studies per kind")
    m.add_argument("--seed", type=int, default=0, help="random seed")
    m.set_defaults(func=cmd_simulate)


def cmd_serve(args: argparse.Namespace) -> int:
    from ..rate.study import open_study

    if not 0 < args.port < 65536:
        raise CLIError(f"{{option:port}} must be 1-65535, got {args.port}")
    try:
        import uvicorn

        from ..rate.app import create_app
    except ImportError as e:
        raise CLIError(f"{RATE_EXTRA} ({e})") from None
    cfg, folder = open_study(args.study)
    if args.prepare_only:
        print(f"study ready: {folder}")
        return 0
    token = secrets.token_urlsafe(24)
    app = create_app(folder, admin_token=token)
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    base = f"http://{shown}:{args.port}"
    invite = f"/?invite={cfg.invite}" if cfg.invite else "/"
    print(f"study: {cfg.name} ({cfg.kind}) in {folder}", flush=True)
    print(f"raters: {base}{invite}", flush=True)
    print(f"admin: {base}/admin/login?token={token}", flush=True)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"listening on {args.host}: anyone on this network with the raters' link can rate", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from ..rate.report import report, table

    if args.boot < 100:
        raise CLIError(f"{{option:boot}} must be at least 100, got {args.boot}")
    summary, out = report(args.db, args.out, overwrite=args.overwrite, n_boot=args.boot)
    print(table(summary))
    print(f"wrote {out}/results.json, ratings.csv, report.html")
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ..rate.simulate import KINDS, format_simulation, run_simulation

    kinds = list(KINDS) if args.kind == "all" else [args.kind]
    if unknown := [k for k in kinds if k not in KINDS]:
        raise CLIError(f"{{option:kind}} must be all or one of {', '.join(KINDS)}; got {', '.join(unknown)}")
    if args.repeats < 1:
        raise CLIError(f"{{option:repeats}} must be at least 1, got {args.repeats}")
    reports = []
    for kind in kinds:
        with tqdm(total=args.repeats, desc=f"simulate {kind}", file=sys.stderr, leave=False) as bar:
            reports.append(run_simulation(kind, args.repeats, args.seed, progress=lambda k: bar.update(1)))
    print(format_simulation(reports))
    return 0
