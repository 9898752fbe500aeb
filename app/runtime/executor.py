"""The one place where tensors meet the device: a queue, dynamic batching, deadlines, cancellation.

Model work runs on a single worker thread, off the event loop, in arrival order: one device, one
queue. ``run(fn, *args)`` queues one piece of work. ``run_batched(key, item, fn)`` queues an item
that may share the device with others of the same key (same model, same kind of work): items
that arrive while the worker is busy, or within ``max_wait_s`` of the first, are run together as
one batch by ``fn(items) -> results`` (at most ``max_batch``), and each caller gets its own
result. Under load the queue is where batches form, so the wait costs nothing then.

The queue is bounded: past ``queue_max`` waiting items a request gets a 503 with Retry-After at
once. Every request has a deadline (504). A caller may pass a ``threading.Event`` that the work
checks between iterations; it is set when the deadline passes or the client goes away, and work
still waiting for its turn is dropped without running. A CUDA out-of-memory error fails only the
work that hit it (503), after the allocator's cache is emptied.

Only the model thread computes with several CPU threads. OpenMP gives each thread that runs a
parallel operation its own team of helpers, and once the process holds more of them than there
are cores, every team stops spinning between operations and sleeps instead: the model thread's
small operations then take longer (a digit's forward+backward 1.4 to 2.2 times as long on 2
cores, benchmarks/threads.py). So the model thread takes its team first, models load on it, and
every thread started after it (request threads, image encoding) computes on one thread.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

import torch

from app.errors import Busy, ClientGone, DeadlineExceeded, OutOfMemory

T = TypeVar("T")
Disconnected = Callable[[], Awaitable[bool]]


@dataclass(eq=False)  # identity: payloads hold tensors
class _Item:
    payload: Any
    future: Future = field(default_factory=Future)
    cancel: threading.Event = field(default_factory=threading.Event)


@dataclass
class _Work:
    """One queue entry: a single call (key None) or a batch of items sharing a key."""

    fn: Callable[..., Any]
    items: list[_Item]
    key: Hashable | None = None
    created: float = field(default_factory=time.monotonic)


class Executor:
    def __init__(
        self,
        queue_max: int,
        timeout_s: float,
        *,
        max_batch: int = 32,
        max_wait_s: float = 0.002,
        batching: bool = True,
        torch_threads: int = 0,
    ) -> None:
        self.queue_max, self.timeout_s = queue_max, timeout_s
        self.torch_threads = torch_threads or DEFAULT_TORCH_THREADS
        self.max_batch, self.max_wait_s, self.batching = max_batch, max_wait_s, batching
        self._queue: deque[_Work] = deque()
        self._open: dict[Hashable, _Work] = {}  # batches still taking items
        self._cv = threading.Condition()
        self._pending = 0  # items queued or running
        self._busy = False  # the last batchable item arrived while others were in flight
        self._stopping = False
        self.stats = {"runs": 0, "items": 0, "largest_batch": 0}  # for /healthz, tests and benchmarks
        self._thread = threading.Thread(target=self._worker, name="advlab-model", daemon=True)
        self._started = threading.Event()
        self._thread.start()
        self._started.wait()
        _one_thread_for_later_threads()

    @property
    def pending(self) -> int:
        return self._pending

    async def run(
        self,
        fn: Callable[..., T],
        *args: object,
        timeout: float | None = None,
        cancel: threading.Event | None = None,
        disconnected: Disconnected | None = None,
    ) -> T:
        """fn(*args) on the worker thread. ``cancel`` is set when the deadline passes or the client leaves."""
        item = _Item(args, cancel=cancel or threading.Event())
        self._submit(_Work(lambda items: [fn(*items[0].payload)], [item]), item)
        return await self._wait(item, timeout, disconnected)

    async def run_batched(
        self,
        key: Hashable,
        payload: object,
        fn: Callable[[list], list],
        *,
        timeout: float | None = None,
        disconnected: Disconnected | None = None,
    ) -> Any:
        """fn([payload, ...]) -> [result, ...] on the worker thread, batched with others of ``key``."""
        item = _Item(payload)
        with self._cv:
            self._admit()
            self._busy = self._pending > 0  # a crowd: company is likely within max_wait_s
            open_batch = self._open.get(key) if self.batching else None
            if open_batch is not None and len(open_batch.items) < self.max_batch:
                open_batch.items.append(item)
                self._pending += 1
                self._cv.notify_all()
            else:
                work = _Work(lambda items: fn([i.payload for i in items]), [item], key)
                self._enqueue(work)
        return await self._wait(item, timeout, disconnected)

    def call(self, fn: Callable[..., T], *args: object) -> T:
        """fn(*args) on the worker thread, waiting for it here: for start-up work (loading models)."""
        item = _Item(args)
        self._submit(_Work(lambda items: [fn(*items[0].payload)], [item]), item)
        return item.future.result()

    def _submit(self, work: _Work, item: _Item) -> None:
        with self._cv:
            self._admit()
            self._enqueue(work)

    def _admit(self) -> None:
        if self._pending >= self.queue_max:
            raise Busy(f"AdvLab is busy ({self._pending} requests waiting). Please try again in a moment.")

    def _enqueue(self, work: _Work) -> None:
        self._queue.append(work)
        if work.key is not None and self.batching:
            self._open[work.key] = work
        self._pending += len(work.items)
        self._cv.notify_all()

    async def _wait(self, item: _Item, timeout: float | None, disconnected: Disconnected | None) -> Any:
        limit = timeout or self.timeout_s
        watcher = asyncio.ensure_future(_watch(disconnected, item.cancel)) if disconnected else None
        outcome = asyncio.wrap_future(item.future)
        outcome.add_done_callback(_consume)  # after a deadline nobody awaits it: drop it quietly
        try:
            return await asyncio.wait_for(asyncio.shield(outcome), limit)
        except TimeoutError:
            item.cancel.set()
            raise DeadlineExceeded(
                f"This took longer than the {limit:g} s limit and was stopped. Try fewer steps or a smaller image."
            ) from None
        finally:
            if watcher:
                watcher.cancel()

    # --- the worker thread --------------------------------------------------------------------------

    def _worker(self) -> None:
        _take_team(self.torch_threads)
        self._started.set()
        while True:
            work = self._next()
            if work is None:
                return
            gone = [i for i in work.items if i.cancel.is_set()]
            live = [i for i in work.items if not i.cancel.is_set()]
            try:
                results = self._execute(work, live) if live else []
            finally:
                with self._cv:  # counted out before the callers hear back, so their next request fits
                    self._pending -= len(work.items)
            for item in gone:
                item.future.set_exception(ClientGone("The request was cancelled before it ran."))
            for item, result in zip(live, results):
                if isinstance(result, BaseException):
                    item.future.set_exception(result)
                else:
                    item.future.set_result(result)

    def _next(self) -> _Work | None:
        """The next work. A young, small batch alone in the queue waits up to max_wait_s for company,
        but only when it arrived while other work was in flight: a lone student's request never waits."""
        with self._cv:
            while True:
                while not self._queue and not self._stopping:
                    self._cv.wait()
                if self._stopping and not self._queue:
                    return None
                head = self._queue[0]
                wait = head.created + self.max_wait_s - time.monotonic()
                if (
                    head.key is None
                    or not self._busy
                    or len(self._queue) > 1
                    or len(head.items) >= self.max_batch
                    or wait <= 0
                ):
                    self._queue.popleft()
                    if self._open.get(head.key) is head:
                        del self._open[head.key]
                    return head
                self._cv.wait(timeout=wait)

    def _execute(self, work: _Work, items: list[_Item]) -> list:
        """Each item's result, or the exception every item of the work gets."""
        self.stats["runs"] += 1
        self.stats["items"] += len(items)
        self.stats["largest_batch"] = max(self.stats["largest_batch"], len(items))
        error: BaseException
        try:
            return work.fn(items)
        except torch.cuda.OutOfMemoryError:
            torch.cuda.empty_cache()  # give the memory back before anyone else runs
            error = OutOfMemory(
                "The GPU ran out of memory for this request. Try a smaller batch, image or number of steps."
            )
        except BaseException as exc:  # every caller hears about it; the worker goes on
            error = exc
        return [error] * len(items)

    def shutdown(self) -> None:
        with self._cv:
            self._stopping = True
            for work in self._queue:
                for item in work.items:
                    item.cancel.set()
            self._cv.notify_all()
        self._thread.join(timeout=30)


# torch's default number of CPU threads (the physical cores), read before anything changes it
DEFAULT_TORCH_THREADS = torch.get_num_threads()


def _take_team(threads: int) -> None:
    """Give the calling thread its OpenMP team of ``threads`` now. torch sets a thread's count at its
    first parallel operation, from the process-wide value: set it, then run one such operation."""
    torch.set_num_threads(threads)
    torch.ones(1 << 17).add_(1)  # above torch's grain size: runs on the team
    torch.set_num_threads(threads)


def _one_thread_for_later_threads() -> None:
    """Make one thread the count that threads started from now on take. Set from a thread of its
    own, which ends at once: the caller's count, and its team if it has one, stay as they are."""
    setter = threading.Thread(target=torch.set_num_threads, args=(1,), name="advlab-threads")
    setter.start()
    setter.join()


def _consume(outcome: asyncio.Future) -> None:
    if not outcome.cancelled():
        outcome.exception()


async def _watch(disconnected: Disconnected, cancel: threading.Event, every: float = 0.25) -> None:
    """Set ``cancel`` as soon as the client has gone away."""
    while not cancel.is_set():
        if await disconnected():
            cancel.set()
            return
        await asyncio.sleep(every)
