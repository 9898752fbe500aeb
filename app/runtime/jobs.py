"""Long work as jobs: progress, queue position, a deadline, cancellation, and cached results.

A job's id is a hash of its kind and parameters, so the same request finds the same job: a
running one is joined, a finished one answers at once (its result is kept on disk, and results
shipped in models/experiments/ are there from the start), and the id is a permalink.

A job body is a generator function: each ``next()`` does a short chunk of model work and yields
(done, total, message); its return value is the result. Chunks run on the executor, so requests
get through between them, and cancellation and the deadline are checked between chunks. A job
nobody asks about for ``idle_s`` seconds (its page was closed) is cancelled.

Jobs are shared but owned: whoever starts a run, or joins it while it is waiting or running, gets a
cancel token, and only a token holder may cancel. A cancel withdraws that holder; the run stops
when no holder is left, so one client cannot stop another's run. The stop reaches the attack inside
the chunk (``Job.stop``, checked at every attack step), so the work ends within one step.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.errors import Busy, ClientGone, Forbidden, NotFound
from app.runtime.background import BackgroundLoop

log = logging.getLogger(__name__)

Body = Generator[tuple[int, int, str], None, dict]
BodyFactory = Callable[[threading.Event], Body]  # gets the job's stop event, to check as it works
RETRY_AFTER_S = 120  # a full experiment queue: "try again in a couple of minutes"
Status = str  # queued, running, done, failed, cancelled


def job_id(kind: str, params: dict) -> str:
    canonical = json.dumps({"kind": kind, "params": params}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:20]


@dataclass
class Job:
    id: str
    kind: str
    params: dict
    body: BodyFactory | None = None
    status: Status = "queued"
    done: int = 0
    total: int = 1
    message: str = "waiting for its turn"
    result: dict | None = None
    error: str | None = None
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    last_seen: float = field(default_factory=time.monotonic)
    stop: threading.Event = field(default_factory=threading.Event)  # set: the work stops at its next step
    holders: set[str] = field(default_factory=set)  # cancel tokens of the clients waiting for it

    @property
    def progress(self) -> float:
        return 1.0 if self.status == "done" else self.done / max(self.total, 1)

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running")


class JobManager(BackgroundLoop):
    def __init__(
        self,
        executor,
        results_dir: Path,
        shipped_dir: Path | None = None,
        *,
        max_queued: int = 16,
        idle_s: float = 30.0,
        deadline_s: float = 1800.0,
    ) -> None:
        super().__init__()
        self.executor = executor
        self.results_dir = results_dir
        self.max_queued, self.idle_s, self.deadline_s = max_queued, idle_s, deadline_s
        self.jobs: dict[str, Job] = {}
        self.queue: list[Job] = []
        self.durations: dict[str, float] = {}  # kind -> last run time, for wait estimates
        results_dir.mkdir(parents=True, exist_ok=True)
        for folder in (shipped_dir, results_dir):
            if folder and folder.is_dir():
                self._load(folder)

    def _load(self, folder: Path) -> None:
        for path in sorted(folder.glob("*.json")):
            saved = json.loads(path.read_text())
            job = Job(
                id=job_id(saved["kind"], saved["params"]),
                kind=saved["kind"],
                params=saved["params"],
                status="done",
                result=saved["result"],
                message="finished",
                finished=saved.get("finished"),
            )
            self.jobs[job.id] = job

    # --- what routes call ----------------------------------------------------------------------

    def submit(self, kind: str, params: dict, body: BodyFactory) -> tuple[Job, str | None]:
        """The job for these parameters (a finished or running one if there is one, else a new one)
        and the caller's cancel token (None for a finished job: there is nothing to cancel)."""
        jid = job_id(kind, params)
        existing = self.jobs.get(jid)
        if existing and existing.status == "done":
            existing.last_seen = time.monotonic()
            return existing, None
        if existing and existing.active:
            existing.last_seen = time.monotonic()
            return existing, self._hold(existing)
        if len(self.queue) >= self.max_queued:
            raise Busy(
                f"{len(self.queue)} experiments are already waiting. Please try again in a couple of minutes.",
                retry_after=RETRY_AFTER_S,
            )
        job = Job(id=jid, kind=kind, params=params, body=body)
        self.jobs[jid] = job
        self.queue.append(job)
        self.wake()
        return job, self._hold(job)

    @staticmethod
    def _hold(job: Job) -> str:
        token = secrets.token_urlsafe(18)
        job.holders.add(token)
        return token

    def get(self, jid: str) -> Job:
        job = self.jobs.get(jid)
        if job is None:
            raise NotFound(
                "There is no such experiment run: it may have been cancelled or the server restarted. "
                "Start it again from its page."
            )
        job.last_seen = time.monotonic()
        return job

    def cancel(self, jid: str, token: str | None) -> Job:
        """Withdraw the holder of ``token``; stop the job when no holder is left. A finished job is
        left as it is; a token that does not hold this job is refused (403)."""
        job = self.get(jid)
        if not job.active:
            return job
        if not token or token not in job.holders:
            raise Forbidden(
                "Only a client that started this run (or asked for it while it was running) can "
                "cancel it: send the cancel_token that its start returned, in the X-Cancel-Token header."
            )
        job.holders.discard(token)
        if job.holders:
            job.message = f"still running: {len(job.holders)} other client(s) asked for it"
        elif job.status == "queued":
            self.queue.remove(job)
            self._finish(job, "cancelled", message="cancelled before it started")
        else:
            job.stop.set()
        return job

    def position(self, job: Job) -> int | None:
        """1 for the next job to run; None when not waiting."""
        return self.queue.index(job) + 1 if job in self.queue else None

    def estimated_wait(self, job: Job) -> float | None:
        """Seconds until it starts, from the last run time of each job ahead (None when unknown)."""
        if job not in self.queue:
            return None
        ahead = self.queue[: self.queue.index(job)] + [j for j in self.jobs.values() if j.status == "running"]
        known = [self.durations[j.kind] for j in ahead if j.kind in self.durations]
        return float(sum(known)) if len(known) == len(ahead) else None

    async def work(self) -> bool:
        self._drop_abandoned()
        if not self.queue:
            return False
        await self._run(self.queue.pop(0))
        return True

    def _drop_abandoned(self) -> None:
        now = time.monotonic()
        for job in list(self.queue):
            if now - job.last_seen > self.idle_s:
                self.queue.remove(job)
                self._finish(job, "cancelled", message="cancelled: nobody was watching it")

    async def _run(self, job: Job) -> None:
        job.status, job.started, job.message = "running", time.time(), "starting"
        assert job.body is not None  # only finished jobs drop their body, and they are never queued
        body = job.body(job.stop)
        try:
            while True:
                reason = self._stop_reason(job)
                if reason:
                    body.close()
                    return self._finish(job, "cancelled", message=reason)
                step = await self.executor.run(_next_chunk, body, timeout=self.deadline_s, cancel=job.stop)
                if isinstance(step, _Finished):
                    self.durations[job.kind] = time.time() - job.started
                    return self._finish(job, "done", result=step.result, message="finished")
                job.done, job.total, job.message = step
        except ClientGone:  # stopped inside a chunk: cancelled, or the executor's deadline passed
            body.close()
            self._finish(job, "cancelled", message=self._stop_reason(job) or "cancelled")
        except Busy:
            job.status, job.message = "queued", "waiting: the server is busy"
            self.queue.insert(0, job)
            await asyncio.sleep(1.0)
        except Exception as exc:  # a failed job reports why; the loop goes on
            log.exception("job %s (%s) failed", job.id, job.kind)
            self._finish(job, "failed", error=str(exc) or type(exc).__name__, message="failed")

    def _stop_reason(self, job: Job) -> str | None:
        if job.stop.is_set():
            return "cancelled"
        if time.monotonic() - job.last_seen > self.idle_s:
            return "cancelled: nobody was watching it (its page was closed)"
        assert job.started is not None  # asked only about the running job
        if time.time() - job.started > self.deadline_s:
            return f"stopped: it ran past the {self.deadline_s:g} s limit"
        return None

    def _finish(
        self, job: Job, status: Status, *, result: dict | None = None, error: str | None = None, message: str = ""
    ) -> None:
        job.status, job.result, job.error, job.message, job.finished = status, result, error, message, time.time()
        job.body = None
        job.holders.clear()
        if status == "done":
            path = self.results_dir / f"{job.id}.json"
            path.write_text(
                json.dumps({"kind": job.kind, "params": job.params, "finished": job.finished, "result": result})
            )


@dataclass
class _Finished:
    result: Any


def _next_chunk(body: Body) -> tuple[int, int, str] | _Finished:
    """One chunk of the job, on the executor's thread."""
    try:
        return next(body)
    except StopIteration as stop:
        return _Finished(stop.value)


def run_to_end(body: Body, log: Callable[[str], None] = print) -> dict:
    """Run a job body synchronously (``advlab experiment``), printing its progress now and then."""
    last = 0.0
    try:
        while True:
            done, total, message = next(body)
            if time.monotonic() - last > 5:
                log(f"{done}/{total} {message}")
                last = time.monotonic()
    except StopIteration as stop:
        return stop.value
