"""The live GAN-training lab: small GANs that students train step by step in the browser.

A session holds two players and their optimisers. While it plays, the manager's loop advances
each playing session in turn by a short time slice on the executor (the one place where tensors
meet the device), so several students share the machine fairly and requests still get through
between slices. The number of sessions is capped; a session ends when its page stops asking for
its state (the tab was closed), when it reaches its step limit, or when it is stopped.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import torch
from pydantic import BaseModel, ConfigDict, Field

from app.errors import Busy, NotFound
from app.gan import toys
from app.gan.game import Batch, Cost, Players, StepStats, train_step
from app.gan.networks import init_weights
from app.runtime.background import BackgroundLoop

log = logging.getLogger(__name__)

Data = Literal["ring", "grid", "moons", "line", "mnist"]
HISTORY_POINTS = 400  # recorded steps are thinned to at most this many
SHOWN_POINTS = 512  # real and generated points drawn in 2D
MAP_SIDE = 48  # the discriminator's decision map, MAP_SIDE² cells
EXTENT = 1.6  # the 2D view is [-EXTENT, EXTENT]²


class LabConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data: Data = Field("ring", description="ring, grid, moons, line (2D points) or mnist (a tiny MLP GAN).")
    cost: Cost = Field("non-saturating", description="The generator's cost: log(1 − D(G(z))) or −log D(G(z)).")
    k: int = Field(1, ge=1, le=10, description="Discriminator steps per generator step.")
    lr_g: float = Field(1e-3, gt=0, le=0.1, description="Generator learning rate.")
    lr_d: float = Field(1e-3, gt=0, le=0.1, description="Discriminator learning rate.")
    optimizer: Literal["adam", "sgd"] = Field("adam", description="Adam (β1 = 0.5) or plain SGD.")
    batch_size: int = Field(128, ge=8, le=512)
    seed: int = Field(0, ge=0, le=2**31 - 1)


@dataclass
class Session:
    id: str
    config: LabConfig
    players: Players
    sample_real: Callable[[], Batch]  # () -> a real batch
    noise: Callable[[], Batch]  # () -> a latent batch
    shown_z: torch.Tensor  # fixed latents, so the drawn samples move smoothly as G learns
    shown_real: torch.Tensor
    steps: int = 0
    playing: bool = False
    history: list[dict] = field(default_factory=list)
    last_seen: float = field(default_factory=time.monotonic)

    def advance(self, seconds: float, max_steps: int) -> int:
        """Train until ``seconds`` have passed or the step limit; returns the steps taken."""
        until, done = time.perf_counter() + seconds, 0
        while time.perf_counter() < until and self.steps < max_steps:
            self.step_once()
            done += 1
        return done

    def step_once(self) -> None:
        stats = train_step(self.players, self.sample_real, self.noise, self.config.cost, self.config.k)
        assert stats is not None  # train_step reads them back unless told stats=False
        self.record(stats)

    def record(self, s: StepStats) -> None:
        self.steps += 1
        self.history.append(
            {
                "step": self.steps,
                "d_loss": s.d_loss,
                "g_loss": s.g_loss,
                "d_real": s.d_real,
                "d_fake": s.d_fake,
                "g_grad_norm": s.g_grad_norm,
            }
        )
        if len(self.history) > 2 * HISTORY_POINTS:  # keep every other old point, the newest always
            self.history = self.history[:-1:2] + self.history[-1:]


def build_session(config: LabConfig, data_dir: Path) -> Session:
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    if config.data == "mnist":
        g, d = toys.mnist_players()
        digits, nz = toys.mnist_digits(data_dir), toys.MNIST_LATENT
        sample_real = lambda: digits[torch.randint(0, len(digits), (config.batch_size,), generator=gen)]
        shown_real = digits[:16]
    else:
        g, d = toys.toy_players()
        draw, nz = toys.TOYS[config.data], toys.TOY_LATENT
        sample_real = lambda: draw(config.batch_size, gen)
        shown_real = draw(SHOWN_POINTS, torch.Generator().manual_seed(config.seed + 1))
    g.apply(init_weights)
    d.apply(init_weights)
    opt = (
        (lambda p, lr: torch.optim.Adam(p, lr, betas=(0.5, 0.999)))
        if config.optimizer == "adam"
        else (lambda p, lr: torch.optim.SGD(p, lr))
    )
    players = Players(g, d, opt(g.parameters(), config.lr_g), opt(d.parameters(), config.lr_d))
    shown = 16 if config.data == "mnist" else SHOWN_POINTS
    return Session(
        id=secrets.token_urlsafe(12),
        config=config,
        players=players,
        sample_real=sample_real,
        noise=lambda: torch.randn(config.batch_size, nz, generator=gen),
        shown_z=torch.randn(shown, nz, generator=torch.Generator().manual_seed(config.seed + 2)),
        shown_real=shown_real,
    )


@torch.no_grad()
def picture(s: Session) -> dict[str, torch.Tensor]:
    """What the page draws now: generated samples, and for 2D the discriminator's map."""
    fake = s.players.generator(s.shown_z)
    if s.config.data == "mnist":
        return {"fake": fake}
    axis = torch.linspace(-EXTENT, EXTENT, MAP_SIDE)
    yy, xx = torch.meshgrid(axis.flip(0), axis, indexing="ij")  # row 0 is the top of the view
    grid = torch.stack([xx.flatten(), yy.flatten()], 1)
    d_map = torch.sigmoid(s.players.discriminator(grid)).view(MAP_SIDE, MAP_SIDE)
    return {"fake": fake, "real": s.shown_real, "d_map": d_map}


class LabManager(BackgroundLoop):
    """The sessions, their cap, and the loop that trains the playing ones in turn."""

    def __init__(
        self, executor, data_dir: Path, *, max_sessions: int, idle_s: float, max_steps: int, slice_s: float = 0.05
    ) -> None:
        super().__init__()
        self.executor = executor
        self.data_dir = data_dir
        self.max_sessions, self.idle_s, self.max_steps, self.slice_s = max_sessions, idle_s, max_steps, slice_s
        self.sessions: dict[str, Session] = {}

    async def start(self, config: LabConfig) -> Session:
        self.reap()
        if len(self.sessions) >= self.max_sessions:
            raise Busy(
                f"All {self.max_sessions} training slots are in use. Please wait a moment and try again "
                "(a slot frees up when someone closes their lab page)."
            )
        session = await self.executor.run(build_session, config, self.data_dir)
        self.sessions[session.id] = session
        return session

    def get(self, session_id: str) -> Session:
        session = self.sessions.get(session_id)
        if session is None:
            raise NotFound(
                "This training session has ended (its page was closed, it reached its step limit, "
                "or it was stopped). Start a new one."
            )
        session.last_seen = time.monotonic()
        return session

    def play(self, session: Session, playing: bool) -> None:
        session.playing = playing and session.steps < self.max_steps
        self.wake()

    async def step(self, session: Session, steps: int) -> None:
        """Train exactly ``steps`` generator steps now (the page's "single step")."""
        session.playing = False
        await self.executor.run(_steps, session, min(steps, self.max_steps - session.steps))

    async def reset(self, session: Session) -> Session:
        fresh = await self.executor.run(build_session, session.config, self.data_dir)
        fresh.id = session.id
        self.sessions[session.id] = fresh
        return fresh

    def stop(self, session_id: str) -> None:
        self.sessions.pop(session_id, None)

    def reap(self) -> None:
        """End sessions nobody has looked at for idle_s seconds."""
        now = time.monotonic()
        for sid, s in list(self.sessions.items()):
            if now - s.last_seen > self.idle_s:
                log.info("lab session %s ended: idle", sid)
                del self.sessions[sid]

    async def work(self) -> bool:
        """One round: each playing session trains for a time slice."""
        self.reap()
        playing = [s for s in self.sessions.values() if s.playing]
        for session in playing:
            await self._advance(session)
        if playing:
            await asyncio.sleep(self.slice_s / 2)  # leave the device some breathing room between rounds
        return bool(playing)

    async def _advance(self, session: Session) -> None:
        try:
            await self.executor.run(session.advance, self.slice_s, self.max_steps)
        except Busy:
            await asyncio.sleep(0.2)
        except Exception:  # a broken session must not stop everyone else's
            log.exception("lab session %s failed", session.id)
            self.sessions.pop(session.id, None)
        if session.steps >= self.max_steps:
            session.playing = False


def _steps(session: Session, steps: int) -> None:
    for _ in range(max(steps, 0)):
        session.step_once()
