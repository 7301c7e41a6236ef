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

from ..core.config import add_config_args, config_from_dict, given_args
from ..rate.config import ReportConfig, ServeConfig, SimulateConfig
from .common import CLIError

RATE_EXTRA = 'the rating server needs the "rate" extra: pip install -e ".[rate]" (fastapi, uvicorn)'


def formatter(prog: str) -> argparse.HelpFormatter:
    # defaults are in the help texts already (add_config_args writes them), so no Defaults formatter
    return argparse.HelpFormatter(prog, max_help_position=34, width=100)


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
    add_config_args(s, ServeConfig)
    s.set_defaults(func=cmd_serve)

    r = rate.add_parser("report", help="tables, JSON/CSV exports and an HTML page of a study's results",
                        formatter_class=formatter)
    r.add_argument("db", metavar="STUDY.db", help="the study database (study folder/study.db)")
    add_config_args(r, ReportConfig)
    r.set_defaults(func=cmd_report)

    m = rate.add_parser("simulate", help="check the statistics on simulated raters with known truth",
                        formatter_class=formatter)
    add_config_args(m, SimulateConfig)
    m.set_defaults(func=cmd_simulate)


def cmd_serve(args: argparse.Namespace) -> int:
    from ..rate.study import open_study

    args = config_from_dict(ServeConfig, given_args(args, ServeConfig))
    if not args.study:
        raise CLIError("{option:study} is required: the study declaration (TOML), see docs/rating.md")
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

    cfg = config_from_dict(ReportConfig, given_args(args, ReportConfig))
    summary, out = report(args.db, cfg.out or None, overwrite=cfg.overwrite, n_boot=cfg.boot)
    print(table(summary))
    print(f"wrote {out}/results.json, ratings.csv, report.html")
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ..rate.simulate import KINDS, format_simulation, run_simulation

    args = config_from_dict(SimulateConfig, given_args(args, SimulateConfig))
    kinds = list(KINDS) if args.kind == "all" else [args.kind]
    if unknown := [k for k in kinds if k not in KINDS]:
        raise CLIError(f"{{option:kind}} must be all or one of {', '.join(KINDS)}; got {', '.join(unknown)}")
    reports = []
    for kind in kinds:
        with tqdm(total=args.repeats, desc=f"simulate {kind}", file=sys.stderr, leave=False) as bar:
            reports.append(run_simulation(kind, args.repeats, args.seed, progress=lambda k: bar.update(1)))
    print(format_simulation(reports))
    return 0
