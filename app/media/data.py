"""MNIST and Fashion-MNIST through torchvision.datasets, and CelebA faces, rooted at the data dir.

Online, ``download=True`` fetches the files; offline, ``prepare_from`` decompresses a folder of
the original ``*-ubyte.gz`` files into the layout torchvision expects (``root/MNIST/raw/``) and
unpacks the CelebA sample (``celeba-10k/``) beside them; see app/gan/faces.py for the faces.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path

import torch
from torchvision import datasets

RAW_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    torchvision_class: type[datasets.MNIST]  # MNIST or a dataset shaped like it (FashionMNIST)
    folder: str  # torchvision's folder under the root
    source_subdir: str  # folder name in a directory handed to ``prepare_from``


DATASETS = {
    "mnist": DatasetInfo("mnist", datasets.MNIST, "MNIST", "mnist"),
    "fashion-mnist": DatasetInfo("fashion-mnist", datasets.FashionMNIST, "FashionMNIST", "fashion-mnist"),
}


def dataset_info(name: str) -> DatasetInfo:
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; known: {sorted(DATASETS)}")
    return DATASETS[name]


def prepare_from(source: Path, data_dir: Path) -> list[Path]:
    """Decompress ``source/<dataset>/*.gz`` into ``data_dir/<Folder>/raw/``; returns files written.

    Each archive is checked against the MD5SUMS file beside it when there is one.
    """
    written = []
    for info in DATASETS.values():
        src = source / info.source_subdir
        if not src.is_dir():
            continue
        expected = _read_md5sums(src / "MD5SUMS")
        raw = data_dir / info.folder / "raw"
        raw.mkdir(parents=True, exist_ok=True)
        for stem in RAW_FILES:
            archive = src / f"{stem}.gz"
            if expected.get(archive.name) not in (None, _digest(archive, "md5")):
                raise ValueError(f"{archive} does not match its MD5SUMS entry")
            target = raw / stem
            if not target.exists():
                _gunzip(archive, target)
                written.append(target)
    return written + _prepare_celeba(source / CELEBA_DIR, data_dir / CELEBA_DIR)


CELEBA_DIR = "celeba-10k"
CELEBA_TAR = "img_align_celeba_half_10k.tar"


def _prepare_celeba(src: Path, target: Path) -> list[Path]:
    """Unpack the CelebA sample's JPEGs (only plain files under celebA/) and copy its label files."""
    if not (src / CELEBA_TAR).exists():
        return []
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for label_file in sorted(src.glob("list_*.txt")):
        if not (target / label_file.name).exists():
            shutil.copyfile(label_file, target / label_file.name)
            written.append(target / label_file.name)
    images = target / "celebA"
    if not images.is_dir():
        partial = target / "celebA.partial"
        shutil.rmtree(partial, ignore_errors=True)
        with tarfile.open(src / CELEBA_TAR) as tar:
            members = [m for m in tar.getmembers() if m.isfile() and m.name.startswith("celebA/")]
            tar.extractall(partial, members=members, filter="data")
        (partial / "celebA").replace(images)
        partial.rmdir()
        written.append(images)
    return written


def load_split(name: str, data_dir: Path, train: bool, download: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Images as float (N, 1, 28, 28) in [0,1] and labels as int64 (N,)."""
    info = dataset_info(name)
    try:
        ds = info.torchvision_class(str(data_dir), train=train, download=download)
    except RuntimeError as exc:  # torchvision: "Dataset not found. You can use download=True ..."
        raise FileNotFoundError(
            f"{name} is not in {data_dir}: run `advlab data --from DIR` with a folder of the original "
            "files, or `advlab data --download` on a machine with internet"
        ) from exc
    images = ds.data.unsqueeze(1).float().div_(255.0)
    return images, ds.targets.long()


def class_names(name: str) -> list[str]:
    return [c.split(" - ")[0] for c in dataset_info(name).torchvision_class.classes]


def checksums(name: str, data_dir: Path) -> dict[str, str]:
    """sha256 of each uncompressed raw file, recorded with every trained model."""
    raw = data_dir / dataset_info(name).folder / "raw"
    return {stem: _digest(raw / stem, "sha256") for stem in RAW_FILES}


def _gunzip(archive: Path, target: Path) -> None:
    partial = target.with_suffix(".partial")
    with gzip.open(archive, "rb") as src, open(partial, "wb") as dst:
        shutil.copyfileobj(src, dst)
    partial.replace(target)


def _digest(path: Path, algorithm: str) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, algorithm).hexdigest()


def _read_md5sums(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    pairs = (line.split() for line in path.read_text().splitlines() if line.strip())
    return {name.lstrip("*"): digest for digest, name in pairs}
