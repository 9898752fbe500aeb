"""A task on the app's event loop that works while there is work and sleeps otherwise: the GAN
lab's training rounds and the experiment jobs both run this way, their model work going through
the executor one short piece at a time."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod


class BackgroundLoop(ABC):
    def __init__(self) -> None:
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._closing = False

    @abstractmethod
    async def work(self) -> bool:
        """Do one round of work; False when there was none (the loop then sleeps until woken)."""

    def wake(self) -> None:
        self._wake.set()

    def run_forever(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def close(self) -> None:
        # A flag as well as cancel(): asyncio.wait_for in Python 3.11 can swallow a cancellation
        # that arrives just as the event it waits for is set.
        self._closing = True
        self._wake.set()
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _loop(self) -> None:
        while not self._closing:
            if await self.work():
                continue
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=1.0)  # also a heartbeat for clean-ups
            except TimeoutError:
                pass
