"""Every attack, by name. Adding one: a file with its Params and Attack subclass, and a line here."""

from __future__ import annotations

from app.attacks.base import Attack, Goal, Params
from app.attacks.bim import BIM
from app.attacks.cw import CW
from app.attacks.deepfool import DeepFool
from app.attacks.fgsm import FGSM
from app.attacks.jsma import JSMA
from app.attacks.mifgsm import MIFGSM
from app.attacks.pgd import PGD, PGDL2
from app.attacks.proximity import FoolingNoise, Proximity

ATTACKS: dict[str, Attack] = {
    a.name: a
    for a in (
        FGSM(),
        BIM(),
        PGD(),
        PGDL2(),
        MIFGSM(),
        Proximity(),
        FoolingNoise(),
        CW(),
        DeepFool(),
        JSMA(),
    )
}

__all__ = ["ATTACKS", "Attack", "Goal", "Params"]
