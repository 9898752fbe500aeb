"""Which torch device the app uses."""

from __future__ import annotations

import torch


def resolve_device(setting: str) -> torch.device:
    """``auto`` picks CUDA when a GPU is visible, else the CPU; anything else is taken as given."""
    if setting == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(setting)
