"""The one place where tensors meet the device.

Model work runs on a single worker thread, off the event loop, in arrival order: one device, one
queue. Callers ``await executor.run(fn, *args)``. The queue is bounded (a full queue is a 503 with
Retry-After) and every job has a deadline (a 504 when it passes; a job that has not started by
then never runs). Batching and in-flight cancellation will hook in here without touching callers.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from app.errors import Busy, DeadlineExceeded

T = TypeVar("T")


class Executor:
    def __init__(self, queue_max: int, timeout_s: float) -> None:
        self.queue_max = queue_max
        self.timeout_s = timeout_s
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="advlab-model")
        self._lock = threading.Lock()
        self._pending = 0  # queued or running

    @property
    def pending(self) -> int:
        return self._pending

    async def run(self, fn: Callable[..., T], *args: object, timeout: float | None = None) -> T:
        with self._lock:
            if self._pending >= self.queue_max:
                raise Busy(f"AdvLab is busy ({self._pending} requests waiting). Please try again in a moment.")
            self._pending += 1
        future = self._pool.submit(fn, *args)
        future.add_done_callback(self._finished)
        limit = timeout or self.timeout_s
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), limit)
        except TimeoutError:
            raise DeadlineExceeded(f"This took longer than the {limit:g} s limit and was stopped. "
                                   "Try fewer steps or a smaller image.") from None

    def _finished(self, _future: object) -> None:
        with self._lock:
            self._pending -= 1

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
