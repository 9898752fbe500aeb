"""The GAN building blocks without the app: latents, interpolation, the game, the toys, quality."""

from __future__ import annotations

import math

import pytest
import torch

from app.gan import latent as lat
from app.gan import toys
from app.gan.game import Players, cost_curve, d_hinge, g_cost, train_step
from app.gan.networks import Discriminator, GanConfig, Generator
from app.gan.quality import agreement, frechet_distance, judge_report


def test_a_latent_depends_only_on_its_seed_and_index() -> None:
    grid = lat.latents(3, range(10), 100)
    assert torch.equal(grid[7], lat.latent(3, 7, 100))
    assert not torch.equal(lat.latent(3, 7, 100), lat.latent(3, 8, 100))
    assert not torch.equal(lat.latent(3, 7, 100), lat.latent(4, 7, 100))
    assert abs(float(grid.std()) - 1) < 0.1


def test_interpolations_start_and_end_at_the_picks() -> None:
    a, b = lat.latent(0, 1, 100), lat.latent(0, 2, 100)
    for path in (lat.lerp(a, b, 7), lat.slerp(a, b, 7)):
        assert path.shape == (7, 100)
        assert torch.allclose(path[0], a, atol=1e-5) and torch.allclose(path[-1], b, atol=1e-5)


def test_slerp_keeps_the_norm_where_lerp_sags() -> None:
    a = lat.latent(0, 1, 100)
    b = lat.latent(0, 2, 100)
    b = b / b.norm() * a.norm()  # equal norms: the great circle keeps them all the way
    assert torch.allclose(lat.slerp(a, b, 9).norm(dim=1), a.norm().expand(9), rtol=1e-4)
    assert lat.lerp(a, b, 9).norm(dim=1)[4] < 0.8 * a.norm()  # nearly orthogonal: the middle sags by ~1/√2


def test_arithmetic_averages_each_group() -> None:
    a, b, c = torch.randn(3, 10), torch.randn(1, 10), torch.randn(2, 10)
    assert torch.allclose(lat.arithmetic(a, b, c), a.mean(0) - b[0] + c.mean(0))
    assert torch.equal(lat.arithmetic(a, a, c), c.mean(0) + 0 * a.mean(0))


def test_the_seed_figure_gradients_are_d_and_one_minus_d() -> None:
    d = torch.tensor([0.001, 0.1, 0.5, 0.9])
    _, sat = cost_curve(d, "saturating")
    value, nonsat = cost_curve(d, "non-saturating")
    assert torch.allclose(sat, d.double(), atol=1e-9)  # vanishes as D(G(z)) -> 0
    assert torch.allclose(nonsat, 1 - d.double(), atol=1e-9)  # largest there
    assert torch.allclose(value, -torch.log(d.double()), atol=1e-9)


def test_costs_match_their_formulas() -> None:
    logits = torch.tensor([-3.0, 0.0, 2.0])
    d = torch.sigmoid(logits)
    assert torch.isclose(g_cost(logits, "saturating"), torch.log(1 - d).mean())
    assert torch.isclose(g_cost(logits, "non-saturating"), -torch.log(d).mean())


def test_a_step_takes_k_discriminator_updates_and_one_generator_update() -> None:
    torch.manual_seed(0)
    g, d = toys.toy_players()
    players = Players(g, d, torch.optim.Adam(g.parameters()), torch.optim.Adam(d.parameters()))
    gen = torch.Generator().manual_seed(0)
    stats = train_step(
        players, lambda: toys.ring(32, gen), lambda: torch.randn(32, toys.TOY_LATENT, generator=gen), k=3
    )
    steps = lambda opt: int(next(iter(opt.state.values()))["step"])
    assert steps(players.opt_d) == 3 and steps(players.opt_g) == 1
    assert 0 < stats.d_fake < 1 and stats.g_grad_norm > 0


def test_a_strong_discriminator_starves_the_saturating_generator() -> None:
    """After D has learnt to reject G's samples, the saturating cost hands G a far smaller gradient."""
    norms = {}
    for cost in ("saturating", "non-saturating"):
        torch.manual_seed(0)
        g, d = toys.toy_players()
        players = Players(g, d, torch.optim.Adam(g.parameters(), 1e-3), torch.optim.Adam(d.parameters(), 1e-2))
        gen = torch.Generator().manual_seed(0)
        stats = train_step(
            players,
            lambda: toys.ring(128, gen),
            lambda: torch.randn(128, toys.TOY_LATENT, generator=gen),
            cost=cost,
            k=30,
        )
        norms[cost] = stats.g_grad_norm
        assert stats.d_fake < 0.2
    assert norms["saturating"] < 0.01 * norms["non-saturating"]


@pytest.mark.parametrize("name", sorted(toys.TOYS))
def test_toy_distributions_are_seeded_and_in_view(name: str) -> None:
    a = toys.TOYS[name](500, torch.Generator().manual_seed(1))
    b = toys.TOYS[name](500, torch.Generator().manual_seed(1))
    assert torch.equal(a, b) and a.shape == (500, 2) and a.abs().max() < 1.6


def test_the_ring_has_eight_modes_on_the_unit_circle() -> None:
    points = toys.ring(4000, torch.Generator().manual_seed(0))
    assert (points.norm(dim=1) - 1).abs().mean() < 0.06
    angles = torch.atan2(points[:, 1], points[:, 0])
    modes = torch.round(angles / (2 * math.pi / 8)).remainder(8)
    assert set(modes.long().tolist()) == set(range(8))


def test_dcgan_shapes_and_pixel_range() -> None:
    for cfg in (GanConfig(), GanConfig(channels=3, base=4, stages=4, g_width=8, d_width=8)):
        g, d = Generator(cfg).eval(), Discriminator(cfg).eval()
        x = g(torch.randn(3, cfg.nz))
        assert x.shape == (3, cfg.channels, cfg.side, cfg.side) and 0 <= x.min() and x.max() <= 1
        assert d(x).shape == (3,)


def test_frechet_distance_of_shifted_gaussians_is_the_squared_shift() -> None:
    g = torch.Generator().manual_seed(0)
    a = torch.randn(20000, 4, generator=g, dtype=torch.float64)
    shift = torch.tensor([1.0, -2.0, 0.0, 0.5], dtype=torch.float64)
    assert frechet_distance(a, a) == pytest.approx(0, abs=1e-6)
    assert frechet_distance(a, a + shift) == pytest.approx(float(shift.square().sum()), rel=1e-6)
    b = torch.randn(20000, 4, generator=g, dtype=torch.float64) * 2  # std 2: Tr(1 + 4 - 2·2) per dim = 1
    assert frechet_distance(a, b) == pytest.approx(4.0, rel=0.05)


def test_hinge_loss_ignores_what_is_past_the_margin() -> None:
    real, fake = torch.tensor([2.0, 0.0]), torch.tensor([-3.0, 0.0])
    assert float(d_hinge(real, fake)) == pytest.approx(0.5 + 0.5)  # only the two zeros count


def test_judge_report_counts_the_requested_class_and_what_judges_agree_on() -> None:
    a = torch.tensor([[0.95, 0.05], [0.2, 0.8], [0.05, 0.95]])
    b = torch.tensor([[0.99, 0.01], [0.05, 0.95], [0.6, 0.4]])
    requested = torch.tensor([0, 1, 1])
    report = judge_report(a, requested)
    assert report["confident_share"] == 0.6667 and report["class_shares"] == [0.3333, 0.6667]  # rounded to 4 places
    assert report["requested_share"] == 1.0 and report["requested_share_per_class"] == [1.0, 1.0]
    both = agreement([a, b], requested)
    assert both == {"confident_share_all_judges": 0.3333, "requested_share_all_judges": 0.6667}
