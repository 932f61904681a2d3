"""Shared helpers of the benches: dataset loading (small adapters per CSV layout) and metrics."""

from __future__ import annotations

import csv
import os
import resource
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "BenchDataMissing",
    "Dataset",
    "bcubed",
    "data_dir",
    "load_csv",
    "load_dataset",
    "load_sts_pairs",
    "peak_rss_mib",
    "subsample",
]


@dataclass
class Dataset:
    name: str
    texts: list[str]
    labels: list[str]


class BenchDataMissing(FileNotFoundError):
    """A bench data file is not there: the message names the file and how to point the bench at it."""


def data_dir() -> Path:
    """``$SIRENE_BENCH_DATA`` or ``../shared/data`` next to the repository root.

    The data sets are not part of the repository (a clone has no ``../shared``): a bench that needs one
    says which file is missing (`need`); the tests ship their own small data and never read this folder.
    """
    env = os.environ.get("SIRENE_BENCH_DATA")
    if env:
        return Path(env)
    repo_root = Path(__file__).resolve().parents[2]  # sirene/bench/_data.py -> repo root
    return repo_root.parent / "shared" / "data"


def need(path: Path) -> Path:
    """``path`` if it exists, else `BenchDataMissing` naming it and the two ways to provide it."""
    if not path.exists():
        raise BenchDataMissing(
            f"bench data missing: {path} does not exist. Put the data sets in a folder and set "
            f"SIRENE_BENCH_DATA=<folder> (it holds {path.parent.name}/{path.name}), or pass your own CSV "
            "(`--data` for grouping, `--train`/`--test` for kb, `--corpus` for detect/window)."
        )
    return path


def load_csv(path: str | Path, text_col: str | None = None, label_col: str | None = None) -> Dataset:
    """A CSV with a text column and a label column (``category``/``label``/``intent`` accepted)."""
    path = need(Path(path))
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames or []
        tcol = text_col or next((c for c in ("text", "sentence", "utterance") if c in fields), None)
        lcol = label_col or next((c for c in ("category", "label", "intent") if c in fields), None)
        if tcol is None or lcol is None:
            raise ValueError(f"{path}: need a text and a category column, found {fields}")
        texts, labels = [], []
        for row in reader:
            texts.append(row[tcol] or "")
            labels.append(row[lcol] or "")
    return Dataset(path.stem, texts, labels)


def load_xsid(split: str, langs: Sequence[str] = ("de", "de-st", "de-ba", "de-muc", "gsw")) -> Dataset:
    """German (+ dialect) rows of xSID for one split, in file order (language blocks)."""
    path = need(data_dir() / "xsid_de" / "xsid_de_variants.csv")
    texts, labels = [], []
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["split"] == split and row["lang"] in langs:
                texts.append(row["text"])
                labels.append(row["intent"])
    return Dataset(f"xsid_de-{split}", texts, labels)


def load_dataset(name: str, split: str) -> Dataset:
    """``banking77``/``hwu64`` with ``train``/``valid``/``test``; ``xsid_de`` with ``valid``/``test``."""
    if name == "xsid_de":
        return load_xsid("valid" if split == "train" else split)
    ds = load_csv(data_dir() / name / f"{split}.csv")
    ds.name = f"{name}-{split}"
    return ds


def load_sts_pairs() -> tuple[list[str], list[str], np.ndarray]:
    path = need(data_dir() / "german_nlu_similarity" / "NLU-Data-Home-Domain-similarity-de.csv")
    a, b, y = [], [], []
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            a.append(row["sentence1"])
            b.append(row["sentence2"])
            y.append(float(row["similarity_score"]))
    return a, b, np.array(y)


def subsample(ds: Dataset, n: int, seed: int = 0) -> Dataset:
    """At most ``n`` rows, chosen at random but kept in file order (the order matters for online)."""
    if len(ds.texts) <= n:
        return ds
    rng = np.random.default_rng(seed)
    keep = np.sort(rng.choice(len(ds.texts), size=n, replace=False))
    return Dataset(ds.name, [ds.texts[i] for i in keep], [ds.labels[i] for i in keep])


def bcubed(labels_true: Sequence[object], labels_pred: Sequence[object]) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1 (Bagga & Baldwin), computed from the contingency table."""
    from sklearn.metrics.cluster import contingency_matrix

    c = contingency_matrix(labels_true, labels_pred, sparse=True).tocsr()
    n = c.sum()
    pred_sizes = np.asarray(c.sum(axis=0)).ravel()
    true_sizes = np.asarray(c.sum(axis=1)).ravel()
    coo = c.tocoo()
    counts = coo.data.astype(np.float64)
    # each of the n_ij items in cell (i, j) has precision n_ij/|pred_j| and recall n_ij/|true_i|
    precision = float(np.sum(counts * counts / pred_sizes[coo.col]) / n)
    recall = float(np.sum(counts * counts / true_sizes[coo.row]) / n)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (ru_maxrss is KiB on Linux, bytes on macOS)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (2**20 if sys.platform == "darwin" else 1024)
