"""Where dataset files come from: the data root, the user cache, or a verified download.

Lookup order for a file ``REL`` (e.g. ``mnist/train-images-idx3-ubyte.gz``):

1. the data root: the ``data_root`` argument, else env ``TURBOPIX_DATA`` (a read-only shared folder,
   laid out like ``../shared/data``);
2. the user cache: ``$TURBOPIX_CACHE/data``, else ``$XDG_CACHE_HOME/turbopix/data``, else
   ``~/.cache/turbopix/data`` (same layout as the data root);
3. a download from the public source into the cache, when allowed.

Files are verified by sha256 wherever they come from; the readers do that on the bytes they parse.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
import zlib
from pathlib import Path

from tqdm import tqdm

from ..core.hashing import sha256_file
from .errors import ChecksumError, DataNotFoundError, DownloadError

_CHUNK = 1 << 20  # 1 MiB: large enough for throughput, small enough for a smooth progress bar


def resolve_data_root(data_root: str | Path | None = None) -> Path | None:
    """The data root: the argument, else env ``TURBOPIX_DATA``, else None (no data root).

    A data root that is given but missing is an error rather than silently ignored: the user meant
    to read from it, and falling through to a download would hide the typo.
    """
    source = "data_root argument"
    if data_root is None:
        data_root = os.environ.get("TURBOPIX_DATA") or None
        source = "TURBOPIX_DATA environment variable"
    if data_root is None:
        return None
    path = Path(data_root).expanduser()
    if not path.is_dir():
        raise DataNotFoundError(f"data root {path} (from the {source}) is not a folder")
    return path


def cache_dir() -> Path:
    """The user's data cache; created lazily by ``download``."""
    if os.environ.get("TURBOPIX_CACHE"):
        return Path(os.environ["TURBOPIX_CACHE"]).expanduser() / "data"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "turbopix" / "data"


def find_file(
    rel: str,
    *,
    root: Path | None,
    download_ok: bool,
    url: str,
    sha256: str,
    decompressed_sha256: bool = False,
) -> Path:
    """The first of root/REL and cache/REL that exists, else a verified download into the cache."""
    candidates = ([root / rel] if root is not None else []) + [cache_dir() / rel]
    for path in candidates:
        if path.is_file():
            return path
    if not download_ok:
        looked = ", ".join(str(p) for p in candidates)
        raise DataNotFoundError(
            f"{rel} not found (looked in: {looked}). Allow the download (download=True) to fetch it "
            f"from {url} into the cache, or put the file under a data root and pass data_root= "
            "or set TURBOPIX_DATA."
        )
    return download(url, candidates[-1], sha256=sha256, decompressed_sha256=decompressed_sha256)


def check_sha256(path: Path, actual: str, expected: str, *, what: str = "sha256") -> None:
    """Raise ChecksumError naming the file if the digests differ."""
    if actual != expected:
        raise ChecksumError(
            f"{path}: {what} is {actual}, expected {expected}. The file is corrupt or not the "
            "official one; replace it, or delete it so that a fresh copy is downloaded."
        )


def download(
    url: str,
    dest: str | Path,
    *,
    sha256: str,
    decompressed_sha256: bool = False,
    timeout: float = 60.0,
) -> Path:
    """Download ``url`` to ``dest`` and return ``dest``; nothing is left behind unless it verifies.

    The bytes are streamed into a temporary file in dest's folder (so the final rename cannot cross
    file systems), checked, and only then moved into place with ``os.replace``, which is atomic: a
    crash or a concurrent reader never sees a half-written file under the real name.

    ``sha256`` is the digest of the file as downloaded, or, with ``decompressed_sha256=True``, of its
    gunzipped contents; mirrors re-gzip files, which changes the .gz bytes but not what is inside.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            actual = _stream(url, out, timeout)
        if decompressed_sha256:
            try:
                actual = sha256_file(tmp, gunzip=True)
            except (OSError, EOFError, zlib.error) as e:
                raise ChecksumError(f"download from {url} is not a valid gzip file ({e})") from None
        if actual != sha256:
            kind = "sha256 of the decompressed file" if decompressed_sha256 else "sha256"
            raise ChecksumError(
                f"download from {url} failed verification: {kind} is {actual}, expected {sha256}. "
                "Nothing was kept; retry later, or fetch the file yourself into a data root."
            )
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)  # no-op after a successful os.replace
    return dest


def _stream(url: str, out, timeout: float) -> str:
    """Copy the response body of ``url`` into ``out`` with a progress bar; return its sha256."""
    digest = hashlib.sha256()
    request = urllib.request.Request(url, headers={"User-Agent": "turbopix"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            name = url.rsplit("/", 1)[-1]
            # disable=None turns the bar off when stderr is not a terminal (CI logs, tests)
            with tqdm(total=total, unit="B", unit_scale=True, desc=name, disable=None) as bar:
                while chunk := response.read(_CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
    # HTTPException covers a body cut short (IncompleteRead), which is not an OSError
    except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
        raise DownloadError(
            f"could not download {url}: {e}. Check the network, or put the file under a data root "
            "(data_root= or TURBOPIX_DATA)."
        ) from None
    return digest.hexdigest()
