"""The job manager with a real executor: joining, caching, cancelling, idling, deadlines, failures."""

from __future__ import annotations

import asyncio
import time

import pytest

from app.errors import Busy, ClientGone, Forbidden
from app.runtime.executor import Executor
from app.runtime.jobs import JobManager, job_id, run_to_end


def counting(n: int, pause: float = 0.0, fail_at: int | None = None):
    """A body factory: the body yields n chunks and returns their count."""

    def body(stop=None):
        for i in range(n):
            if i == fail_at:
                raise ValueError("broken on purpose")
            time.sleep(pause)
            yield i + 1, n, f"chunk {i + 1}"
        return {"chunks": n}

    return body


def with_manager(tmp_path, test, **kwargs):
    async def main():
        manager = JobManager(Executor(8, 30), tmp_path / "jobs", **kwargs)
        manager.run_forever()
        try:
            return await test(manager)
        finally:
            await manager.close()
            manager.executor.shutdown()

    return asyncio.run(main())


async def wait_for(manager, job, statuses=("done", "failed", "cancelled"), timeout=10.0):
    deadline = time.monotonic() + timeout
    while job.status not in statuses:
        assert time.monotonic() < deadline, f"the job stayed {job.status}"
        manager.get(job.id)  # polling keeps it alive, as a page does
        await asyncio.sleep(0.02)
    return job


def test_the_same_parameters_join_one_job_whose_result_is_kept(tmp_path) -> None:
    async def test(m):
        first, token = m.submit("count", {"n": 3}, counting(3))
        joined, other = m.submit("count", {"n": 3}, counting(3))
        assert joined is first and first.id == job_id("count", {"n": 3}) and token != other
        await wait_for(m, first)
        assert first.status == "done" and first.result == {"chunks": 3} and first.progress == 1
        assert m.submit("count", {"n": 3}, counting(3)) == (first, None)  # finished: nothing to cancel
        return first.id

    jid = with_manager(tmp_path, test)
    reloaded = JobManager(Executor(1, 1), tmp_path / "jobs")  # a restart: the result is on disk
    assert reloaded.get(jid).status == "done" and reloaded.get(jid).result == {"chunks": 3}


def test_cancel_stops_a_running_job_within_a_chunk(tmp_path) -> None:
    async def test(m):
        job, token = m.submit("slow", {}, counting(1000, pause=0.01))
        await wait_for(m, job, ("running",))
        while job.done < 2:
            await asyncio.sleep(0.01)
        m.cancel(job.id, token)
        await wait_for(m, job)
        assert job.status == "cancelled" and job.done < 1000
        again, _ = m.submit("slow", {}, counting(3))  # a cancelled job can be started afresh
        assert again is not job and again.status == "queued"

    with_manager(tmp_path, test)


def test_a_job_nobody_watches_is_cancelled(tmp_path) -> None:
    async def test(m):
        job, _ = m.submit("slow", {}, counting(1000, pause=0.01))
        await asyncio.sleep(0.6)  # no polling: its page was closed
        assert job.status == "cancelled" and "nobody" in job.message

    with_manager(tmp_path, test, idle_s=0.2)


def test_the_deadline_stops_a_long_job(tmp_path) -> None:
    async def test(m):
        job = await wait_for(m, m.submit("slow", {}, counting(1000, pause=0.01))[0])
        assert job.status == "cancelled" and "limit" in job.message

    with_manager(tmp_path, test, deadline_s=0.2)


def test_a_failing_job_says_why_and_the_next_one_still_runs(tmp_path) -> None:
    async def test(m):
        bad = await wait_for(m, m.submit("bad", {}, counting(5, fail_at=2))[0])
        assert bad.status == "failed" and "broken on purpose" in bad.error
        good = await wait_for(m, m.submit("good", {}, counting(2))[0])
        assert good.status == "done"

    with_manager(tmp_path, test)


def test_queue_positions_wait_estimates_and_the_queue_cap(tmp_path) -> None:
    async def test(m):
        first = await wait_for(m, m.submit("a", {"i": 0}, counting(3, pause=0.01))[0])
        m.durations["a"] = 2.0
        running, token = m.submit("a", {"i": 1}, counting(500, pause=0.01))
        await wait_for(m, running, ("running",))
        waiting = [m.submit("a", {"i": i}, counting(1))[0] for i in (2, 3)]
        assert [m.position(j) for j in waiting] == [1, 2] and m.position(first) is None
        assert m.estimated_wait(waiting[1]) == pytest.approx(4.0)  # the running one and the one ahead
        with pytest.raises(Busy) as busy:
            m.submit("a", {"i": 9}, counting(1))
        assert busy.value.retry_after == 120 and "couple of minutes" in busy.value.message
        m.cancel(running.id, token)

    with_manager(tmp_path, test, max_queued=2)


def test_run_to_end_returns_the_result() -> None:
    assert run_to_end(counting(4)(), log=lambda s: None) == {"chunks": 4}


def test_only_a_token_holder_cancels_and_the_run_stops_when_the_last_one_does(tmp_path) -> None:
    async def test(m):
        job, mine = m.submit("slow", {}, counting(1000, pause=0.01))
        _, theirs = m.submit("slow", {}, counting(1000, pause=0.01))  # another client joins
        await wait_for(m, job, ("running",))
        for stranger in (None, "", "not-a-token"):
            with pytest.raises(Forbidden, match="cancel_token"):
                m.cancel(job.id, stranger)
        m.cancel(job.id, mine)
        await asyncio.sleep(0.1)
        assert job.status == "running" and job.holders == {theirs}  # the other client still waits for it
        with pytest.raises(Forbidden):
            m.cancel(job.id, mine)  # a withdrawn token holds nothing
        m.cancel(job.id, theirs)
        await wait_for(m, job)
        assert job.status == "cancelled"

    with_manager(tmp_path, test)


def test_a_cancel_stops_the_work_inside_a_chunk(tmp_path) -> None:
    """One long chunk (an attack on a batch) that checks the stop event at every step."""
    steps = []

    def one_long_chunk(stop=None):
        for i in range(100_000):
            if stop.is_set():
                raise ClientGone("stopped")
            steps.append(i)
            time.sleep(0.001)
        yield 1, 1, "done"
        return {}

    async def test(m):
        job, token = m.submit("long", {}, one_long_chunk)
        while len(steps) < 5:
            await asyncio.sleep(0.01)
        m.cancel(job.id, token)
        await wait_for(m, job)
        assert job.status == "cancelled" and job.done == 0 and len(steps) < 100_000

    with_manager(tmp_path, test)
