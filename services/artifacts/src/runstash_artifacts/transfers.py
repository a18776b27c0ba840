"""The service's worker threads for S3 transfers and background jobs: created with the service,
closed with it (never a module-level pool that outlives its owner)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class TransferPool:
    """Threads shared by every transfer of one service; when all are busy, transfers wait (that
    is the backpressure). ``stopping`` is set at close so that long background jobs end early."""

    def __init__(self, threads: int, name: str = "artifacts-transfer") -> None:
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=name)
        self.stopping = threading.Event()

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        return self._executor.submit(fn, *args, **kwargs)

    @property
    def closed(self) -> bool:
        return self.stopping.is_set()

    def close(self, *, wait: bool = True) -> None:
        """Cancel queued work, let running work finish (bounded by the S3 client's timeouts)."""
        self.stopping.set()
        self._executor.shutdown(wait=wait, cancel_futures=True)
