"""The pages' charts, drawn from what the services return: the GAN training lab's curves and the
experiments' result plots."""

from __future__ import annotations

from app.schemas.gan import LabComparison, LabState
from app.services.gan_lab import cost_figure
from app.web.charts import Chart, line_chart


def gan_lab_charts(s: LabState) -> dict[str, Chart]:
    """Losses, D's verdicts and the generator's gradient norm against the step."""
    h = s.history

    def series(key: str) -> list[tuple[float, float]]:
        return [(p.step, getattr(p, key)) for p in h]

    x_range = (0, max(s.steps, 10))
    return {
        "loss": line_chart({"d_loss": series("d_loss"), "g_loss": series("g_loss")}, x_range=x_range),
        "verdict": line_chart(
            {"d_real": series("d_real"), "d_fake": series("d_fake")}, x_range=x_range, y_range=(0, 1)
        ),
        "grad": line_chart({"g_grad": series("g_grad_norm")}, x_range=x_range),
    }


def compare_charts(c: LabComparison) -> dict[str, Chart]:
    """‖∇G‖ of both runs on one log axis (they differ by decades), and D(G(z)) of both on 0..1."""

    def series(key: str) -> dict[str, list[tuple[float, float]]]:
        return {_KEYS[r.cost]: [(p.step, getattr(p, key)) for p in r.state.history] for r in c.runs}

    x_range = (0, max(c.steps, 10))
    return {
        "grad": line_chart(series("g_grad_norm"), x_range=x_range, log_y=True, margin=(12, 12, 32, 56)),
        "verdict": line_chart(series("d_fake"), x_range=x_range, y_range=(0, 1)),
    }


_KEYS = {"saturating": "sat", "non-saturating": "nonsat"}  # the cost charts' colours


def cost_charts() -> dict[str, Chart]:
    fig = cost_figure()
    return {
        "cost": line_chart({"sat": fig["sat_cost"], "nonsat": fig["nonsat_cost"]}, x_range=(0, 1), y_range=(-5, 5)),
        "grad": line_chart({"sat": fig["sat_grad"], "nonsat": fig["nonsat_grad"]}, x_range=(0, 1), y_range=(0, 1)),
    }


def robustness_chart(result: dict) -> Chart:
    series = {f"m{i}": [(eps, acc) for eps, acc in curve] for i, curve in enumerate(result["curves"].values())}
    eps = [p[0] for curve in result["curves"].values() for p in curve]
    return line_chart(series, width=520, height=280, x_range=(0, max(eps + [0.05])), y_range=(0, 1))


def shortcut_chart(result: dict) -> Chart:
    """Test log-loss against i, the seed's sweep plot; the plain model as a flat reference line."""
    sweep = [(m["i"], m["test"]["log_loss"]) for m in result["models"].values() if m["i"] is not None]
    plain = result["models"]["plain"]["test"]["log_loss"]
    xs = [i for i, _ in sweep] or [0, 1]
    return line_chart({"sweep": sorted(sweep), "plain": [(min(xs), plain), (max(xs), plain)]}, width=520, height=260)
