"""CelebA faces for the 64x64 DCGAN and its attribute classifier.

CelebA (Liu et al. 2015, mmlab.ie.cuhk.edu.hk/projects/CelebA.html) is for non-commercial research
and education only; so are the models trained on it. Two layouts are read from the data dir:
``celeba-10k/`` (the first 10,000 aligned faces at half resolution, from ``advlab data --from``)
and torchvision's ``celeba/`` (``datasets.CelebA(root, download=True)``, full resolution).
Either way a face is the same square around the eyes and mouth, resized to 64x64.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from app.media.data import CELEBA_DIR

SIDE = 64
# The crop, in fractions of an aligned CelebA image (178x218 at full size): a 128-pixel square
# from (24, 52), which holds the face and a little hair.
CROP = (24 / 178, 52 / 218, 152 / 178, 180 / 218)
ATTRIBUTES = [
    "Male",
    "Smiling",
    "Eyeglasses",
    "Young",
    "Blond_Hair",
    "Black_Hair",
    "Bangs",
    "Wearing_Hat",
    "Mustache",
    "Mouth_Slightly_Open",
]
HELD_OUT = 1000  # the last faces of the set, never trained on, for the classifier's accuracy
LICENCE = (
    "Trained on CelebA (Liu et al. 2015): non-commercial research and education use only "
    "(mmlab.ie.cuhk.edu.hk/projects/CelebA.html)."
)


def face_folder(data_dir: Path) -> tuple[Path, Path]:
    """(folder of JPEGs, attribute file), from the 10k sample or torchvision's full layout."""
    sample = data_dir / CELEBA_DIR
    if (sample / "celebA").is_dir():
        return sample / "celebA", next(sample.glob("list_attr_celeba*.txt"))
    full = data_dir / "celeba"
    if (full / "img_align_celeba").is_dir():
        return full / "img_align_celeba", full / "list_attr_celeba.txt"
    raise FileNotFoundError(
        f"CelebA is not in {data_dir}: run `advlab data --from DIR` with the "
        "celeba-10k folder, or `advlab data --download` on a machine with internet"
    )


def read_attributes(path: Path) -> tuple[list[str], list[str], np.ndarray]:
    """(file names, attribute names, (N, 40) bool) from CelebA's list_attr file."""
    lines = path.read_text().splitlines()
    names = lines[1].split()
    rows = [line.split() for line in lines[2:] if line.strip()]
    return [r[0] for r in rows], names, np.array([[v == "1" for v in r[1:]] for r in rows])


def crop_face(im: Image.Image) -> Image.Image:
    w, h = im.size
    box = (round(CROP[0] * w), round(CROP[1] * h), round(CROP[2] * w), round(CROP[3] * h))
    return im.convert("RGB").resize((SIDE, SIDE), Image.Resampling.BILINEAR, box=box)


def load_faces(data_dir: Path, limit: int | None = None, held_out: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Faces as uint8 (N, 3, 64, 64) and the ATTRIBUTES as float (N, A) in {0, 1}: the first
    ``limit`` (all when None), or with ``held_out`` only the last HELD_OUT (quicker to read)."""
    folder, attr_file = face_folder(data_dir)
    files, names, table = read_attributes(attr_file)
    rows = slice(len(files) - HELD_OUT, None) if held_out else slice(0, limit or None)
    files, table = files[rows], table[rows]
    columns = [names.index(a) for a in ATTRIBUTES]
    pixels = np.stack([np.asarray(crop_face(Image.open(folder / f))) for f in files])
    faces = torch.from_numpy(pixels).permute(0, 3, 1, 2).contiguous()
    return faces, torch.from_numpy(table[:, columns].astype(np.float32))


def balanced_accuracy(predicted: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """Per attribute (column) of bool (N, A) tables: the mean of the hit rates on the faces that
    have it and on those that do not, so that "never" scores 0.5 on a rare attribute, not 0.95."""
    tpr = (predicted & truth).sum(0) / truth.sum(0).clamp_min(1)
    tnr = (~predicted & ~truth).sum(0) / (~truth).sum(0).clamp_min(1)
    return (tpr + tnr) / 2


def attribute_net(width: int = 32, attributes: int = len(ATTRIBUTES)) -> nn.Module:
    """(N, 3, 64, 64) pixels in [0,1] -> one logit per attribute (N, A): four stride-2 conv blocks."""
    layers: list[nn.Module] = []
    channels = 3
    for out in (width, width * 2, width * 4, width * 4):
        layers += [nn.Conv2d(channels, out, 3, 2, 1), nn.BatchNorm2d(out), nn.ReLU(True)]
        channels = out
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(channels, attributes)]
    return nn.Sequential(*layers)
