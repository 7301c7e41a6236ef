"""The library version, in one place (``turbopix.__version__`` and checkpoint metadata read it)."""
__version__ = "0.1.0"
