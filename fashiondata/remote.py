"""fsspec URLs for inputs and outputs (``pip install 'fashiondata[fsspec]'``): ``s3://``, ``gs://``,
``memory://``, ``file://`` and every other protocol fsspec knows.

``file://`` URLs are plain local paths. Other inputs are copied once into a local staging folder
(removed when the process ends) and read from there; an output is built locally and then uploaded,
each object written whole in one ``put`` (object stores have no atomic rename, so a reader never sees a
half-written object). ``--images`` roots must be local or on a shared filesystem.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fashiondata.errors import MissingDependencyError, OutputExistsError

_STAGING: list[str] = []


def is_url(path: str | os.PathLike[str]) -> bool:
    """True for ``scheme://…`` other than ``file://``.

    >>> is_url("s3://bucket/a.json"), is_url("file:///tmp/a.json"), is_url("a.json")
    (True, False, False)
    """
    text = os.fspath(path)
    return "://" in text and not text.startswith("file://")


def local_path(path: str | os.PathLike[str]) -> str:
    """``file:///x`` → ``/x``; other paths unchanged.

    >>> local_path("file:///data/a.json")
    '/data/a.json'
    """
    text = os.fspath(path)
    return text[len("file://") :] if text.startswith("file://") else text


def _filesystem(url: str) -> tuple[Any, str]:
    try:
        import fsspec
    except ImportError as error:
        raise MissingDependencyError("fsspec", "fsspec") from error
    return fsspec.core.url_to_fs(url)


def _staging_folder() -> Path:
    folder = tempfile.mkdtemp(prefix="fashiondata-remote-")
    if not _STAGING:
        atexit.register(lambda: [shutil.rmtree(p, ignore_errors=True) for p in _STAGING])
    _STAGING.append(folder)
    return Path(folder)


def fetch(path: str | os.PathLike[str]) -> str:
    """A local path for ``path``: itself, or a staged copy of a remote file or folder."""
    text = local_path(path)
    if not is_url(text):
        return text
    fs, remote = _filesystem(text)
    if not fs.exists(remote):
        raise FileNotFoundError(2, "No such file or directory", text)
    target = _staging_folder() / Path(remote.rstrip("/")).name
    fs.get(remote, str(target), recursive=fs.isdir(remote))
    return str(target)


@contextlib.contextmanager
def output_path(destination: str | os.PathLike[str], *, overwrite: bool) -> Iterator[str]:
    """Yield a local path to write to; a remote destination is uploaded after the block succeeds."""
    text = local_path(destination)
    if not is_url(text):
        yield text
        return
    fs, remote = _filesystem(text)
    if fs.exists(remote) and not overwrite and (not fs.isdir(remote) or fs.ls(remote)):
        raise OutputExistsError(f"{text}: exists and is not empty (give --overwrite to replace it)")
    local = _staging_folder() / Path(remote.rstrip("/")).name
    yield str(local)
    if local.is_dir():
        if fs.exists(remote) and overwrite:
            fs.rm(remote, recursive=True)
        for file in sorted(p for p in local.rglob("*") if p.is_file()):
            fs.put_file(str(file), f"{remote.rstrip('/')}/{file.relative_to(local).as_posix()}")
    else:
        fs.put_file(str(local), remote)
