from __future__ import annotations

import asyncio
import threading
import time

import pytest
import torch

from app.errors import Busy, ClientGone, DeadlineExceeded, OutOfMemory
from app.runtime.executor import Executor


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


def test_concurrent_items_of_one_key_run_as_one_batch() -> None:
    executor = Executor(queue_max=64, timeout_s=5, max_batch=8, max_wait_s=0.0)
    gate = threading.Event()
    seen: list[list[int]] = []

    def double(items: list[int]) -> list[int]:
        seen.append(items)
        return [2 * i for i in items]

    async def main():
        blocker = asyncio.ensure_future(executor.run(gate.wait))  # the device is busy meanwhile
        await asyncio.sleep(0.05)
        waiting = [asyncio.ensure_future(executor.run_batched("k", i, double)) for i in range(10)]
        other = asyncio.ensure_future(executor.run_batched("other", 100, double))
        await asyncio.sleep(0.05)
        gate.set()
        await blocker
        return await asyncio.gather(*waiting), await other

    results, other = asyncio.run(main())
    assert results == [2 * i for i in range(10)] and other == 200
    assert seen == [list(range(8)), [8, 9], [100]]  # capped at max_batch, keys never mixed, arrival order kept
    executor.shutdown()


def test_batching_off_runs_each_item_alone() -> None:
    executor = Executor(queue_max=64, timeout_s=5, batching=False)
    sizes: list[int] = []

    async def main():
        return await asyncio.gather(
            *(executor.run_batched("k", i, lambda items: sizes.append(len(items)) or items) for i in range(5))
        )

    assert asyncio.run(main()) == list(range(5)) and sizes == [1] * 5
    executor.shutdown()


def test_work_of_a_client_that_left_is_dropped_or_stopped() -> None:
    executor = Executor(queue_max=8, timeout_s=5)
    gate, ran = threading.Event(), []
    gone = threading.Event()

    async def disconnected() -> bool:
        return gone.is_set()

    def steps(cancel: threading.Event) -> int:
        for i in range(1000):  # like an attack: checks between iterations
            if cancel.is_set():
                return i
            time.sleep(0.005)
        return 1000

    async def main():
        blocker = asyncio.ensure_future(executor.run(gate.wait))
        queued = asyncio.ensure_future(executor.run(lambda: ran.append(1), disconnected=disconnected))
        await asyncio.sleep(0.05)
        gone.set()  # the client goes away while its work is still waiting
        await asyncio.sleep(0.25)
        gate.set()
        await blocker
        with pytest.raises(ClientGone):
            await queued
        gone.clear()
        cancel = threading.Event()
        running = asyncio.ensure_future(executor.run(steps, cancel, cancel=cancel, disconnected=disconnected))
        await asyncio.sleep(0.1)
        gone.set()  # ... or while it runs: it stops at its next check
        return await running

    done = asyncio.run(main())
    assert not ran and done < 100
    executor.shutdown()


def test_a_deadline_also_stops_the_work_behind_it() -> None:
    executor = Executor(queue_max=8, timeout_s=0.2)
    cancel, stopped_at = threading.Event(), []

    def long(cancel: threading.Event) -> None:
        while not cancel.wait(0.01):
            pass
        stopped_at.append(time.monotonic())

    async def main():
        with pytest.raises(DeadlineExceeded):
            await executor.run(long, cancel, cancel=cancel)
        return time.monotonic()

    raised_at = asyncio.run(main())
    time.sleep(0.1)
    assert stopped_at and stopped_at[0] - raised_at < 0.1
    executor.shutdown()


def test_out_of_memory_fails_only_that_request() -> None:
    executor = Executor(queue_max=8, timeout_s=5)

    def greedy() -> None:
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    async def main():
        with pytest.raises(OutOfMemory) as caught:
            await executor.run(greedy)
        assert caught.value.retry_after == 5 and "ran out of memory" in caught.value.message
        return await executor.run(lambda: "still working")

    assert asyncio.run(main()) == "still working"
    executor.shutdown()


def test_only_the_model_thread_computes_on_several_cpu_threads() -> None:
    """The model thread keeps its count; threads started after it compute on one, so that the
    process holds a single OpenMP team and that team keeps spinning between operations."""
    executor = Executor(queue_max=8, timeout_s=5, torch_threads=2)
    try:
        assert executor.call(torch.get_num_threads) == 2
        seen: list[int] = []
        later = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
        later.start()
        later.join()
        assert seen == [1]
        assert executor.call(lambda: (torch.ones(1 << 17).add_(1), torch.get_num_threads())[1]) == 2
    finally:
        executor.shutdown()


def test_call_waits_for_the_worker_and_raises_its_error() -> None:
    executor = Executor(queue_max=8, timeout_s=5)
    try:
        assert executor.call(threading.current_thread) is executor._thread
        with pytest.raises(ZeroDivisionError):
            executor.call(lambda: 1 / 0)
    finally:
        executor.shutdown()
