"""Training the digit GANs and their second judge for real, in dry-run size: what they write loads
through the zoo, the judge stays out of the app, the conditional generator draws what it is asked
for, and a run goes on from its checkpoint."""

from __future__ import annotations

import json
import runpy
import shutil
from pathlib import Path

import pytest
import torch

from app import cli
from app.config import Settings
from app.gan import conditional, game
from app.gan.networks import ConditionalGenerator, GanConfig, build_discriminator, build_generator
from app.gan.zoo import load_generator
from app.training import checkpoints, classifiers, gans
from app.training.gans import RECIPES
from app.zoo import Zoo
from app.zoo.manifest import read_generators, read_manifest, write_entry


@pytest.fixture(scope="module")
def judged(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings whose models/ holds the real mnist-cnn and a dry-run mnist-judge, recorded as
    ``advlab train`` records it."""
    models = tmp_path_factory.mktemp("models")
    for name in ("manifest.json", "mnist-cnn.safetensors"):
        shutil.copy(settings.models_dir / name, models / name)
    spec = classifiers.train(classifiers.RECIPES["mnist-judge"], settings.data_dir, models, dry_run=True)
    write_entry(models, spec)
    return Settings(**{**settings.model_dump(), "models_dir": models})


@pytest.fixture(scope="module")
def cond_run(judged: Settings, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("cond")
    lines: list[str] = []
    spec = gans.train(RECIPES["dcgan-mnist-cond"], judged, out, seed=0, dry_run=True, device="cpu", log=lines.append)
    return spec, out, lines


def test_the_judge_is_recorded_but_not_served(judged: Settings) -> None:
    spec = next(s for s in read_manifest(judged.models_dir) if s.name == "mnist-judge")
    assert not spec.served and spec.architecture == "small-resnet" and spec.metrics["seed_offset"] == 1
    served = Zoo.load(judged)
    assert "mnist-judge" not in served.entries and served.entries["mnist-cnn"].available
    assert Zoo.load(judged, only={"mnist-judge"}).entries["mnist-judge"].available  # named: loaded


def test_conditional_dry_run_writes_loadable_weights_and_both_judges_figures(cond_run) -> None:
    spec, out, lines = cond_run
    entry = load_generator(spec, out, torch.device("cpu"))
    assert entry.available and isinstance(entry.generator, ConditionalGenerator)
    assert spec.config["num_classes"] == 10 and spec.measured_by == ["mnist-judge"]
    assert set(spec.metrics["judges"]) == {"mnist-cnn", "mnist-judge"}
    assert len(spec.metrics["judges"]["mnist-judge"]["requested_share_per_class"]) == 10
    assert 0 <= spec.metrics["requested_share_all_judges"] <= 1
    assert any("took" in line and "checkpoint" in line for line in lines)


def test_one_latent_drawn_as_every_digit(cond_run) -> None:
    spec, out, _ = cond_run
    g = load_generator(spec, out, torch.device("cpu")).generator
    z = torch.randn(100, generator=torch.Generator().manual_seed(0))
    images = conditional.all_classes(g, z)
    assert images.shape == (10, 1, 28, 28) and 0 <= images.min() and images.max() <= 1
    assert torch.allclose(images[3], conditional.draw_class(g, z[None], 3)[0])
    assert conditional.draw_class(g, z.expand(4, -1), 7).shape == (4, 1, 28, 28)


def test_class_interpolation_ends_at_the_two_digits(cond_run) -> None:
    spec, out, _ = cond_run
    g = load_generator(spec, out, torch.device("cpu")).generator
    z = torch.randn(100, generator=torch.Generator().manual_seed(1))
    frames = conditional.interpolate_classes(g, z, 1, 7, steps=5)
    ends = conditional.all_classes(g, z)[[1, 7]]
    assert frames.shape == (5, 1, 28, 28) and torch.allclose(frames[[0, -1]], ends, atol=1e-6)


def test_resume_goes_on_from_the_checkpoint(settings: Settings, tmp_path, monkeypatch, capsys) -> None:
    recipe = RECIPES["dcgan-mnist"]
    spec = gans.train(recipe, settings, tmp_path, seed=0, dry_run=True, device="cpu", log=lambda _: None)
    assert load_generator(spec, tmp_path, torch.device("cpu")).available
    path = gans.checkpoint_path(recipe.name, tmp_path, True)
    saved = torch.load(path, weights_only=True)
    assert saved["epoch"] == 1

    players = gans._players(recipe, "cpu")  # what --resume starts from: the saved weights exactly
    checkpoints.load(path, recipe.name, players, gans._run_state(recipe, players, 0, "cpu"))
    for key, value in players.discriminator.state_dict().items():
        assert torch.equal(value, saved["discriminator"][key])

    monkeypatch.setenv("ADVLAB_DATA_DIR", str(settings.data_dir))
    assert cli.main(["train", recipe.name, "--dry-run", "--out", str(tmp_path), "--resume", "--epochs", "2"]) == 0
    printed = capsys.readouterr().out
    assert "after epoch 1" in printed and "epoch 2/2 step 3/3" in printed and "epoch 1/" not in printed
    after = torch.load(path, weights_only=True)
    assert after["epoch"] == 2
    assert not torch.equal(after["generator"]["net.0.weight"], saved["generator"]["net.0.weight"])


def test_a_time_limit_ends_the_run_after_the_epoch_that_passes_it(tmp_path, capsys) -> None:
    assert (
        cli.main(["train", "dcgan-mnist", "--dry-run", "--out", str(tmp_path), "--epochs", "3", "--time-limit", "0"])
        == 0
    )
    printed = capsys.readouterr().out
    assert "epoch 1/3 took" in printed and "epoch 2/3" not in printed
    assert "time limit of 0.0 s reached after epoch 1 of 3" in printed
    entry = json.loads((tmp_path / "manifest.json").read_text())["generators"][0]
    assert " --epochs 1 " in entry["metrics"]["command"]  # the command that repeats what was done
    assert cli.main(["train", "mnist-cnn", "--dry-run", "--time-limit", "5"]) == 2  # GANs only


def test_resume_is_refused_where_there_is_no_checkpoint_or_no_epochs(tmp_path) -> None:
    assert cli.main(["train", "mnist-detector", "--resume"]) == 2
    assert cli.main(["train", "dcgan-mnist", "--dry-run", "--out", str(tmp_path), "--resume"]) == 2


def test_spectral_norm_keeps_each_layer_at_gain_one() -> None:
    d = build_discriminator(GanConfig(d_norm="spectral", d_width=8))
    for _ in range(30):  # power iterations run in training mode
        d(torch.rand(2, 1, 28, 28))
    d.eval()
    convs = [m for m in d.modules() if isinstance(m, torch.nn.Conv2d)]
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in d.modules())
    for conv in convs:
        sigma = float(torch.linalg.matrix_norm(conv.weight.detach().flatten(1), ord=2))
        assert sigma == pytest.approx(1.0, abs=0.05)


def test_older_manifest_entries_still_load(settings: Settings) -> None:
    for gan in read_generators(settings.models_dir):  # written before the new config fields
        assert load_generator(gan, settings.models_dir, torch.device("cpu")).available
    cfg = GanConfig(d_norm="spectral", num_classes=10, embed_dim=8)
    assert GanConfig(**cfg.to_dict()) == cfg and isinstance(build_generator(cfg), ConditionalGenerator)


def test_the_class_head_is_trained_in_both_costs() -> None:
    """With GanConfig.classifier, D names real digits and G is pushed toward the class it was
    asked for: one step moves D's head, and G's gradient carries the class term."""
    cfg = GanConfig(nz=8, d_width=8, g_width=8, d_norm="spectral", num_classes=10, embed_dim=4, classifier=True)
    torch.manual_seed(0)
    g, d = build_generator(cfg), build_discriminator(cfg)
    score, classes = d(torch.rand(5, 1, 28, 28), torch.arange(5), classes=True)
    assert score.shape == (5,) and classes.shape == (5, 10)
    players = game.Players(g, d, torch.optim.Adam(g.parameters()), torch.optim.Adam(d.parameters()))
    head = d.classify.weight.detach().clone()
    real = lambda: (torch.rand(4, 1, 28, 28), torch.tensor([0, 1, 2, 3]))
    noise = lambda: (torch.randn(4, 8), torch.tensor([4, 5, 6, 7]))
    with_class = game.train_step(players, real, noise, loss="hinge", class_weight=1.0)
    assert not torch.equal(head, d.classify.weight)
    torch.manual_seed(0)
    g2, d2 = build_generator(cfg), build_discriminator(cfg)
    fresh = game.Players(g2, d2, torch.optim.Adam(g2.parameters()), torch.optim.Adam(d2.parameters()))
    without = game.train_step(fresh, real, noise, loss="hinge", class_weight=0.0)
    assert with_class.g_loss > without.g_loss  # cross-entropy of a fresh head is about log 10 > 0
    with pytest.raises(ValueError, match="no classifier head"):
        build_discriminator(GanConfig(num_classes=10, embed_dim=4))(torch.rand(1, 1, 28, 28), classes=True)


def test_set_changes_the_recipe_and_is_recorded(judged: Settings, tmp_path, monkeypatch) -> None:
    recipe = gans.with_overrides(RECIPES["dcgan-mnist"], ["lr_d=4e-4", "d_norm=spectral", "ema=none", "epochs=3"])
    assert (recipe.lr_d, recipe.cfg.d_norm, recipe.ema, recipe.epochs) == (4e-4, "spectral", None, 3)
    for bad, says in (
        ("nope=1", "no such setting"),
        ("epochs=x", "not a int"),
        ("lr", "KEY=VALUE"),
        ("name=x", "cannot change"),
        ("flip=maybe", "not a bool"),
    ):
        with pytest.raises(ValueError, match=says):
            gans.with_overrides(RECIPES["dcgan-mnist"], [bad])
    monkeypatch.setenv("ADVLAB_DATA_DIR", str(judged.data_dir))
    monkeypatch.setenv("ADVLAB_MODELS_DIR", str(judged.models_dir))
    out = tmp_path / "run"
    assert cli.main(["train", "dcgan-mnist-cond", "--dry-run", "--out", str(out), "--set", "class_weight=0.5"]) == 0
    (spec,) = read_generators(out)  # --out keeps its own manifest, beside its weights and checkpoint
    assert spec.metrics["command"].endswith("--set class_weight=0.5 --dry-run")
    assert (out / "dcgan-mnist-cond-checkpoint.pt").exists()
    assert cli.main(["train", "mnist-cnn", "--dry-run", "--set", "lr=1"]) == 2
    assert cli.main(["train", "dcgan-mnist", "--dry-run", "--set", "nope=1"]) == 2


def test_adopting_a_run_copies_weights_and_entry(cond_run, tmp_path) -> None:
    spec, trained, _ = cond_run
    out = shutil.copytree(trained, tmp_path / "run")
    write_entry(out, spec)
    models = tmp_path / "models"
    models.mkdir()
    adopt = runpy.run_path(str(Path(__file__).parents[1] / "tools" / "adopt_run.py"))["adopt"]
    assert adopt(out, [], models) == ["dcgan-mnist-cond"]
    assert read_generators(models)[0].metrics == spec.metrics
    assert load_generator(read_generators(models)[0], models, torch.device("cpu")).available
    (models / spec.generator.file).write_bytes(b"changed")
    (out / spec.generator.file).write_bytes(b"changed")
    with pytest.raises(SystemExit, match="checksum"):
        adopt(out, [], models)
