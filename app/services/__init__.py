"""What the JSON API and the pages both call, one module per feature. Routes stay thin; torch stays
here and below. Each feature is a service class that takes the components it uses (built once in
app/main.py); this module holds the two caches they share."""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TypeVar

import torch

T = TypeVar("T")


class InputCache:
    """Prepared model inputs by (image ref, preprocessing, input shape), least recently used out.

    Image refs name immutable pictures (gallery samples, or content-addressed store ids), so a
    prepared input never goes stale. A slider drag sends the same picture dozens of times:
    decoding and preprocessing it once saves that work on every request after the first."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes, self.total_bytes = max_bytes, 0
        self._items: OrderedDict[tuple, torch.Tensor] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> torch.Tensor | None:
        with self._lock:
            x = self._items.get(key)
            if x is not None:
                self._items.move_to_end(key)
        return None if x is None else x.clone()  # callers may change their copy

    def put(self, key: tuple, x: torch.Tensor) -> None:
        size = x.numel() * x.element_size()
        with self._lock:
            if key in self._items or size > self.max_bytes:
                return
            self._items[key] = x.clone()
            self.total_bytes += size
            while self.total_bytes > self.max_bytes:
                _, old = self._items.popitem(last=False)
                self.total_bytes -= old.numel() * old.element_size()


class ResultCache:
    """Finished results by request, least recently used out, and the ones being computed.

    For results that are pure functions of their request and seed (attacks, FGSM sweeps, GAN
    samples): a room of students opens the same presets and gallery images, so each result is
    computed once and then served from here. ``still_valid`` says whether a kept result's images
    are still in the store; one that is not is computed again."""

    def __init__(self, entries: int) -> None:
        self.entries = entries
        self.stats = {"hits": 0, "shared": 0, "computed": 0}  # for /healthz and the benchmarks
        self._done: OrderedDict[tuple, object] = OrderedDict()
        self._running: dict[tuple, asyncio.Task] = {}

    def kept(self, key: tuple, still_valid: Callable[[T], bool]) -> T | None:
        hit = self._done.get(key)
        if hit is None or not still_valid(hit):
            return None
        self._done.move_to_end(key)
        self.stats["hits"] += 1
        return hit

    def keep(self, key: tuple, result: object) -> None:
        """Keep a result just computed for ``key``."""
        self.stats["computed"] += 1
        if self.entries <= 0:
            return
        self._done[key] = result
        self._done.move_to_end(key)
        while len(self._done) > self.entries:
            self._done.popitem(last=False)

    async def get(self, key: tuple, compute: Callable[[], Awaitable[T]], still_valid: Callable[[T], bool]) -> T:
        """The result for ``key``: kept, being computed, or computed now by ``compute()``, for cheap
        work. Identical requests that arrive meanwhile share the computation, which runs as a task
        of its own: a client that leaves does not stop it for the others. With ``entries`` 0
        nothing is reused: every request computes (benchmarks measure the model path so)."""
        hit = self.kept(key, still_valid)
        if hit is not None:
            return hit
        if self.entries <= 0:
            self.stats["computed"] += 1
            return await compute()
        task = self._running.get(key)
        if task is None:
            task = self._running[key] = asyncio.ensure_future(self._run(key, compute))
            task.add_done_callback(lambda t: t.cancelled() or t.exception())  # retrieved, even if nobody waits
        else:
            self.stats["shared"] += 1
        return await asyncio.shield(task)

    async def _run(self, key: tuple, compute: Callable[[], Awaitable[T]]) -> T:
        try:
            result = await compute()
        finally:
            del self._running[key]
        self.keep(key, result)
        return result
