from __future__ import annotations

import asyncio
import threading

import pytest

from app.errors import Busy, DeadlineExceeded
from app.executor import Executor


def test_runs_work_off_the_event_loop_in_order() -> None:
    executor = Executor(queue_max=8, timeout_s=5)
    loop_thread = threading.get_ident()

    async def main():
        return await asyncio.gather(*(executor.run(lambda i=i: (i, threading.get_ident())) for i in range(5)))

    results = asyncio.run(main())
    assert [i for i, _ in results] == list(range(5))
    assert all(t != loop_thread for _, t in results)
    executor.shutdown()


def test_full_queue_is_refused_fast_and_deadline_is_enforced() -> None:
    executor = Executor(queue_max=2, timeout_s=5)
    gate = threading.Event()

    async def main():
        first = asyncio.ensure_future(executor.run(gate.wait))
        second = asyncio.ensure_future(executor.run(gate.wait, timeout=0.2))
        await asyncio.sleep(0.05)
        with pytest.raises(Busy):
            await executor.run(lambda: None)
        with pytest.raises(DeadlineExceeded):
            await second
        gate.set()
        assert await first is True

    asyncio.run(main())
    executor.shutdown()
    assert executor.pending == 0
