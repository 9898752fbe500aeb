"""The /gan page's state, which lives entirely in its URL, and what the template shows for it.

Latents appear in the URL as "seed.index". Every link on the page (add to group A, pick as the
start of an interpolation, ...) is the current URL with one thing changed, so the page works as
plain links with JavaScript off, and a copied URL reproduces the view exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import urlencode

from app.errors import BadRequest, NotFound
from app.gan.latent import MAX_INDEX
from app.schemas.gan import (
    MAX_GROUP,
    MAX_STEPS,
    ArithmeticRequest,
    ClassPathRequest,
    ConceptRequest,
    DigitsRequest,
    ExemplarRequest,
    InterpolateRequest,
    LatentRef,
    SamplesRequest,
)
from app.services.gan import GanService

GRID = 24
DIGIT_ROWS = 4  # a conditional generator's "every digit" table: the focused latent, then the grid's first ones
PATH_STEPS = 10
GROUPS = ("a", "b", "c")


@dataclass(frozen=True)
class StudioState:
    model: str
    seed: int = 0
    a: tuple[str, ...] = ()
    b: tuple[str, ...] = ()
    c: tuple[str, ...] = ()
    start: str = ""
    end: str = ""
    steps: int = 10
    focus: str = ""
    concept: str = ""
    strength: float = 1.5
    noise: float = 0.5
    from_digit: int = 1  # a conditional generator's path between two digits
    to_digit: int = 7

    def url(self, **changes) -> str:
        return "/gan?" + urlencode(replace(self, **changes).query())

    def hidden(self, *skip: str) -> list[tuple[str, object]]:
        """The state as (name, value) pairs for a form's hidden inputs, leaving out the form's own fields."""
        return [(k, v) for k, v in self.query() if k not in skip]

    def query(self) -> list[tuple[str, object]]:
        s = self
        query = [("model", s.model), ("seed", s.seed)]
        query += [(g, ref) for g in GROUPS for ref in getattr(s, g)]
        query += [(k, getattr(s, k)) for k in ("start", "end", "focus", "concept") if getattr(s, k)]
        if s.start and s.end:
            query.append(("steps", s.steps))
        if s.focus:
            query.append(("strength", s.strength))
        if any(getattr(s, g) for g in GROUPS):
            query.append(("noise", s.noise))
        if (s.from_digit, s.to_digit) != (1, 7):
            query += [("from_digit", s.from_digit), ("to_digit", s.to_digit)]
        return query

    def add(self, group: str, ref: str) -> str:
        refs = getattr(self, group)
        return self.url(**{group: (refs + (ref,))[-MAX_GROUP:]})

    def remove(self, group: str, position: int) -> str:
        refs = getattr(self, group)
        return self.url(**{group: refs[:position] + refs[position + 1 :]})


def parse_ref(text: str) -> LatentRef:
    """ "seed.index" -> LatentRef, with a message a student understands."""
    seed, dot, index = text.strip().partition(".")
    if not (dot and seed.isdigit() and index.isdigit()) or int(seed) > 2**31 - 1 or int(index) > MAX_INDEX:
        raise BadRequest(f"{text[:30]!r} is not a latent: write it as seed.index, like 0.12.")
    return LatentRef(seed=int(seed), index=int(index))


def check(state: StudioState) -> None:
    for text in (*state.a, *state.b, *state.c, state.start, state.end, state.focus):
        if text:
            parse_ref(text)
    if any(len(getattr(state, g)) > MAX_GROUP for g in GROUPS):
        raise BadRequest(f"A group holds at most {MAX_GROUP} samples.")
    if not 2 <= state.steps <= MAX_STEPS:
        raise BadRequest(f"Interpolation takes 2 to {MAX_STEPS} steps.")
    if not (-5 <= state.strength <= 5 and 0 <= state.noise <= 2):
        raise BadRequest("The strength must be between -5 and 5, and the noise between 0 and 2.")
    if not (0 <= state.from_digit <= 9 and 0 <= state.to_digit <= 9):
        raise BadRequest("The digits of a path are 0 to 9.")


async def context(gan: GanService, state: StudioState, judged: bool = False) -> dict:
    """Everything the studio shows; the grid as pictures only unless ``judged``."""
    check(state)
    generators = gan.list_generators()
    info = next((g for g in generators if g.name == state.model), None)
    ctx = {
        "generators": generators,
        "info": info,
        "state": state,
        "groups": {},
        "grid": [],
        "grid_judged": False,
        "arithmetic": None,
        "interpolation": None,
        "concept_strip": None,
        "concepts": [],
        "digits": None,
        "class_path": None,
    }
    if info is None or not info.available:
        return ctx
    if judged:
        ctx.update(grid=(await gan.samples(state.model, grid_request(state))).samples, grid_judged=True)
    else:
        ctx["grid"] = (await gan.sample_images(state.model, grid_request(state))).samples  # judged by /gan/grid
    ctx["groups"] = {g: await _group(gan, state, g) for g in GROUPS}
    if all(getattr(state, g) for g in GROUPS):
        ctx["arithmetic"] = await gan.arithmetic(
            state.model,
            ArithmeticRequest(
                a=[parse_ref(r) for r in state.a],
                b=[parse_ref(r) for r in state.b],
                c=[parse_ref(r) for r in state.c],
                noise=state.noise,
                seed=state.seed,
            ),
        )
    if state.start and state.end:
        ctx["interpolation"] = await gan.interpolate(
            state.model, InterpolateRequest(start=parse_ref(state.start), end=parse_ref(state.end), steps=state.steps)
        )
    if info.conditional:
        latents = [parse_ref(state.focus)] if state.focus else []
        latents += [LatentRef(seed=state.seed, index=i) for i in range(DIGIT_ROWS - len(latents))]
        ctx["digits"] = await gan.digits(state.model, DigitsRequest(latents=latents))
        ctx["class_path"] = await gan.class_path(
            state.model,
            ClassPathRequest(latent=latents[0], start=state.from_digit, end=state.to_digit, steps=PATH_STEPS),
        )
    if state.focus:
        concept = state.concept or await default_concept(gan, state, info.multilabel)
        ctx["concept_strip"] = await gan.concept_edit(
            state.model,
            ConceptRequest(
                latent=parse_ref(state.focus),
                concept=concept,
                strengths=[round(state.strength * t / 4, 4) for t in range(5)],
            ),
        )
        ctx["concepts"] = (await gan.concepts(state.model)).concepts
    return ctx


def grid_request(state: StudioState) -> SamplesRequest:
    return SamplesRequest(seed=state.seed, count=GRID)


async def judged_grid(gan: GanService, state: StudioState) -> dict:
    """The grid with D's verdicts and labels (the page shows its pictures first)."""
    check(state)
    info = next((g for g in gan.list_generators() if g.name == state.model), None)
    if info is None or not info.available:
        raise NotFound(f"There is no generator called {state.model} on this server.")
    grid = await gan.samples(state.model, grid_request(state))
    return {"info": info, "state": state, "grid": grid.samples, "grid_judged": True}


# Face attributes an edit shows plainly, in the order the studio offers them by default.
VISIBLE_ATTRIBUTES = ("Smiling", "Eyeglasses", "Male", "Blond_Hair", "Wearing_Hat", "Mustache", "Bangs", "Young")


async def default_concept(gan: GanService, state: StudioState, multilabel: bool) -> str:
    """What an edit of the focused sample should show by default: something it does not show yet.
    A face: the first of VISIBLE_ATTRIBUTES its classifier does not see; a digit: the class it
    looks most like after its own (its runner-up)."""
    (sample,) = (await gan.samples(state.model, SamplesRequest(latents=[parse_ref(state.focus)]))).samples
    if multilabel:
        return next((a for a in VISIBLE_ATTRIBUTES if sample.probs.get(a, 1.0) < 0.5), VISIBLE_ATTRIBUTES[0])
    ranked = sorted(sample.probs, key=sample.probs.__getitem__, reverse=True)
    return ranked[1]


async def _group(gan: GanService, state: StudioState, group: str) -> list:
    refs = getattr(state, group)
    if not refs:
        return []
    found = await gan.samples(state.model, SamplesRequest(latents=[parse_ref(r) for r in refs]))
    return found.samples


async def fill_lecture_example(gan: GanService, state: StudioState, count: int) -> StudioState:
    """The state with A, B and C set to the seed's example (seed 002): man with glasses − man without
    glasses + woman without glasses, exemplars whose result shows a woman with glasses."""
    a, b, c = await gan.lecture_example(state.model, count)
    return replace(state, **{g: tuple(r.key for r in refs) for g, refs in zip(GROUPS, (a, b, c))})


async def fill(
    gan: GanService, state: StudioState, group: str, want: list[str], avoid: list[str], count: int
) -> StudioState:
    """The state with ``group`` replaced by the pool's best exemplars of want-and-not-avoid."""
    if group not in GROUPS:
        raise BadRequest("The group must be a, b or c.")
    want, avoid = [w for w in want if w], [v for v in avoid if v]  # a form's "(nothing)" is empty
    found = await gan.exemplars(state.model, ExemplarRequest(want=want, avoid=avoid, count=count))
    return replace(state, **{group: tuple(s.latent.key for s in found.exemplars)})
