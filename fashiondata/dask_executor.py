"""DaskExecutor: the same per-item work on a Dask cluster (``pip install 'fashiondata[dask]'``).

``--executor dask`` starts a LocalCluster sized to this machine (one single-threaded worker process per
core); ``--executor dask://HOST:PORT`` uses a running scheduler. Items are sent in chunks, at most
``2 × workers`` chunks in flight, and results come back in input order, so outputs are byte-identical
to serial runs. Workers open the paths they are given: on a real cluster the inputs and the output
folder must be on a filesystem every worker sees (NFS, or fsspec URLs such as ``s3://``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from fashiondata.executor import _run_chunk, iter_in_order

T = TypeVar("T")
R = TypeVar("R")


class DaskExecutor:
    """Runs chunks of items as Dask futures; the client (and a LocalCluster) start on first use."""

    def __init__(self, address: str | None = None, *, workers: int | None = None) -> None:
        from distributed import Client  # noqa: F401  (fail early, in the driver, when the extra is missing)

        self.address = address
        self._n_workers = workers or os.cpu_count() or 1
        self._client: Any = None
        self._cluster: Any = None
        self._starting: threading.Thread | None = None
        self._start_error: BaseException | None = None

    @property
    def workers(self) -> int:
        if self._client is None:
            return self._n_workers
        return max(1, len(self._client.scheduler_info().get("workers", {})))

    def start(self) -> None:
        """Start connecting (and a LocalCluster) in the background: :func:`fashiondata.api.read` calls
        this before parsing a source, so the cluster's start-up overlaps the driver's reading."""
        if self._client is None and self._starting is None:
            self._starting = threading.Thread(target=self._connect, name="fashiondata-dask-start", daemon=True)
            self._starting.start()

    def _get_client(self) -> Any:
        if self._starting is not None:
            self._starting.join()
            self._starting = None
            if self._start_error is not None:
                raise self._start_error
        self._open()
        return self._client

    def _connect(self) -> None:
        try:
            self._open()
        except BaseException as error:  # re-raised in the driver by _get_client
            self._start_error = error

    def _open(self) -> None:
        if self._client is None:
            from distributed import Client, LocalCluster

            if self.address:
                self._client = Client(f"tcp://{self.address}" if "://" not in self.address else self.address)
            else:
                self._cluster = LocalCluster(
                    n_workers=self._n_workers, threads_per_worker=1, processes=True, dashboard_address=None
                )
                self._client = Client(self._cluster)

    def map(self, fn: Callable[[T], R], items: Iterable[T], *, chunksize: int | None = None) -> Iterator[R]:
        client = self._get_client()
        submit = lambda chunk: client.submit(_run_chunk, fn, chunk, pure=False)  # noqa: E731
        return iter_in_order(submit, items, chunksize, 2 * self.workers)

    def close(self) -> None:
        if self._starting is not None:
            self._starting.join()
            self._starting = None
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
