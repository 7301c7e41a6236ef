"""Human rating: studies in which people judge generated images, served as a small web application.

    turbopix rate serve --study study.toml     # prepare the study folder once, then serve it
    turbopix rate report study/study.db        # tables, JSON/CSV and an HTML page with plots
    turbopix rate simulate                     # the statistics checked on simulated raters

``study.py`` reads the TOML declaration and prepares the study folder (images sampled once and
stored as PNG files under opaque random ids), with ``paired.py`` for outputs shown beside their
inputs; ``config.py`` holds the command-line options; ``db.py`` is the SQLite store; ``trials.py`` picks
the next trial for a rater; ``app.py`` is the FastAPI application; ``analysis.py`` turns stored
ratings into scores with ``stats.py``; ``report.py`` writes the report. The web parts need the
``rate`` extra (``pip install -e ".[rate]"``); nothing here is imported by ``import turbopix``.
"""
