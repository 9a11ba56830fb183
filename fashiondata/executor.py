"""Executors: where per-item work runs. Serial, a local process pool, or Dask (``[dask]`` extra).

Every executor maps a picklable callable over items in chunks and yields results **in input order**,
so outputs are byte-identical whichever runs. Work items are plain data (paths, records); steps are
frozen dataclasses with ``__call__``, never lambdas.

``make_executor("serial" | "process" | "process:N" | "dask" | "dask://host:8786")``.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Protocol, TypeVar

from fashiondata.errors import FashionDataError, MissingDependencyError, ValidationError

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    """Runs ``fn`` over items, yielding results in input order."""

    workers: int

    def map(self, fn: Callable[[T], R], items: Iterable[T], *, chunksize: int | None = None) -> Iterator[R]: ...

    def close(self) -> None: ...


class SerialExecutor:
    """Runs everything in this process: the default for tests and debugging."""

    workers = 1

    def map(self, fn: Callable[[T], R], items: Iterable[T], *, chunksize: int | None = None) -> Iterator[R]:
        return map(fn, items)

    def close(self) -> None:
        pass


def _import_numpy() -> None:
    """Worker start-up: the steps that run on workers use NumPy (0.1 s to import)."""
    import numpy  # noqa: F401


def _run_chunk(fn: Callable[[T], R], chunk: list[T]) -> list[R]:
    return [fn(item) for item in chunk]


def iter_in_order(
    submit: Callable[[list[T]], Any], items: Iterable[T], chunksize: int | None, window: int
) -> Iterator[R]:
    """Submit chunks of items (each ``submit`` returns a future), at most ``window`` in flight, and
    yield their results in input order: the loop every parallel executor shares."""
    pending: deque[Any] = deque()
    for chunk in iter_chunks(items, chunksize or 16):
        pending.append(submit(chunk))
        if len(pending) >= window:
            yield from pending.popleft().result()
    while pending:
        yield from pending.popleft().result()


def iter_chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of ``size`` items (the last may be shorter)."""
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class ProcessExecutor:
    """A local pool of ``workers`` processes; chunks of items, at most ``2 × workers`` in flight."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self._pool: ProcessPoolExecutor | None = None

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context(method), initializer=_import_numpy
            )
        return self._pool

    def start(self) -> None:
        """Fork the workers now. :func:`fashiondata.api.read` calls it before a source is read: workers
        forked after the driver has parsed a large document share its pages copy-on-write, and then every
        reference count the driver touches copies a page (an LVIS-sized JSON: seconds lost). It does not
        wait for them: they import NumPy while the driver reads."""
        self._get_pool().submit(int)  # a fork pool forks all its processes at the first submission

    def map(self, fn: Callable[[T], R], items: Iterable[T], *, chunksize: int | None = None) -> Iterator[R]:
        pool = self._get_pool()
        return iter_in_order(lambda chunk: pool.submit(_run_chunk, fn, chunk), items, chunksize, 2 * self.workers)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


def make_executor(spec: str | None = None, *, workers: int | None = None) -> Executor:
    """Build an executor from ``--executor`` and ``-j/--workers``.

    ``workers`` alone means ``process:N`` (1 means serial); with ``dask`` it sizes the LocalCluster;
    giving both with different meanings is a ValidationError.

    >>> make_executor("serial").workers
    1
    >>> make_executor(workers=3).workers
    3
    """
    kind, arg = _parse_spec(spec or _from_workers(workers))
    if kind == "dask":
        try:
            from fashiondata.dask_executor import DaskExecutor
        except ImportError as error:  # distributed missing
            raise MissingDependencyError("dask.distributed", "dask") from error
        if arg and workers is not None:
            raise ValidationError("-j sizes a local Dask cluster: it does not apply to dask://HOST:PORT")
        return DaskExecutor(arg or None, workers=workers)  # -j N sizes the LocalCluster
    if spec and workers is not None and (kind, arg) != _parse_spec(_from_workers(workers)):
        raise ValidationError(f"--executor {spec} and -j {workers} disagree: give one of them")
    if kind == "serial":
        return SerialExecutor()
    if kind == "process":
        return ProcessExecutor(int(arg) if arg else None)
    raise ValidationError(f"unknown executor {spec!r}: use serial, process[:N], dask or dask://HOST:PORT")


def _from_workers(workers: int | None) -> str:
    if workers is None or workers == 1:
        return "serial"
    if workers < 1:
        raise ValidationError(f"-j/--workers must be at least 1, got {workers}")
    return f"process:{workers}"


def _parse_spec(spec: str) -> tuple[str, str]:
    if spec.startswith("dask://"):
        return "dask", spec[len("dask://") :]
    kind, _, arg = spec.partition(":")
    if kind == "process" and arg:
        if not arg.isdigit() or int(arg) < 1:
            raise ValidationError(f"bad executor {spec!r}: process:N needs N ≥ 1")
        if int(arg) == 1:
            return "serial", ""
    return kind, arg


@dataclasses.dataclass(frozen=True)
class Guarded:
    """Wrap a per-item function so that expected failures come back as values, not exceptions.

    Returns ``(True, result)`` or ``(False, error)`` for FashionDataError and OSError; anything else
    is a bug and propagates.
    """

    fn: Callable[[Any], Any]

    def __call__(self, item: Any) -> tuple[bool, Any]:
        try:
            return True, self.fn(item)
        except (FashionDataError, OSError) as error:
            return False, error
