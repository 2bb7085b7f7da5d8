"""Labels a user has for some images of a folder (a CSV), and the baseline the codes must beat: k-means on pixels.

``evaluate --labels FILE.csv --label_column COL`` scores the first categorical code against that column as MNIST's is
scored against the digits (accuracy, NMI, ARI), and each continuous code by its mutual information with it. The
baseline is k-means on the raw pixels of the same images with as many clusters as the code has values: a code that
does not beat it found nothing a pixel average would not. Pure torch, no Lightning.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Optional, Sequence

import torch
from torchmetrics.functional.clustering import mutual_info_score

from infogan.errors import InputError

BINS = 20  # a continuous code is binned like MIG's (infogan.metrics) to estimate its MI with a label


def check_labels_file(csv_path: str | Path) -> Path:
    """The CSV's path; InputError when there is no such file (callers check before minutes of computing)."""
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise InputError(f"--labels {csv_path}: no such file")
    return csv_path


def read_labels(csv_path: str | Path, column: str, files: Sequence[Path], root: str | Path,
                file_column: str = "file", where: Optional[tuple[str, str]] = None) -> dict:
    """Match the CSV's rows to ``files`` (the folder's images) and read ``column``.

    A row names its image in ``file_column``: a path relative to ``root`` (``a/b.png``), or a bare file name when
    that is unique in the folder. Rows with an empty ``column`` are left out, and so are rows whose ``where``
    (column, value) does not hold.

    Returns {"index": indices into ``files`` (M,), "labels": (M,) long, "names": the label values by id,
    "rows": rows in the CSV, "matched": M}. InputError for a missing file, a missing column, or no row that names an
    image of the folder (saying how many rows there were).
    """
    csv_path = check_labels_file(csv_path)
    with csv_path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        for name, flag in ((file_column, "--file_column"), (column, "--label_column"),
                           *(((where[0], "--label_where"),) if where else ())):
            if name not in header:
                raise InputError(f"--labels {csv_path} has no column {name!r} ({flag}); its columns are "
                                 f"{', '.join(header) or 'none'}")
        rows = list(reader)
    root = Path(root)
    by_path = {p.relative_to(root).as_posix(): i for i, p in enumerate(files)}
    by_name: dict[str, list[int]] = {}
    for i, p in enumerate(files):
        by_name.setdefault(p.name, []).append(i)
    index, values = [], []
    for row in rows:
        name, value = (row.get(file_column) or "").strip(), (row.get(column) or "").strip()
        i = by_path.get(name)
        if i is None and len(by_name.get(name, ())) == 1:
            i = by_name[name][0]
        if i is None or not value or (where and (row.get(where[0]) or "").strip() != where[1]):
            continue
        index.append(i)
        values.append(value)
    if not index:
        raise InputError(f"--labels {csv_path}: none of its {len(rows)} rows names an image of {root} with a value in "
                         f"{column!r}{f' where {where[0]} = {where[1]!r}' if where else ''} (matched 0 of "
                         f"{len(files)} images)")
    names = sorted(set(values))
    ids = {v: k for k, v in enumerate(names)}
    return {"index": index, "labels": torch.tensor([ids[v] for v in values]), "names": names, "rows": len(rows),
            "matched": len(index)}


def kmeans(points: torch.Tensor, k: int, seed: int = 0, iterations: int = 100) -> torch.Tensor:
    """Lloyd's k-means with k-means++ seeding on points (N, D): the cluster of each point (N,) long.

    (torchmetrics and torchvision have no k-means; scikit-learn is not a dependency for one baseline.)
    """
    points = points.float()
    g = torch.Generator().manual_seed(seed)
    centres = points[torch.randint(len(points), (1,), generator=g)]
    while len(centres) < min(k, len(points)):
        nearest = torch.cdist(points, centres).min(dim=1).values.pow(2)
        pick = torch.multinomial(nearest / nearest.sum(), 1, generator=g) if nearest.sum() > 0 else \
            torch.randint(len(points), (1,), generator=g)
        centres = torch.cat([centres, points[pick]])
    assign = torch.cdist(points, centres).argmin(dim=1)
    for _ in range(iterations):
        for c in range(len(centres)):
            members = points[assign == c]
            if len(members):
                centres[c] = members.mean(dim=0)
        new = torch.cdist(points, centres).argmin(dim=1)
        if torch.equal(new, assign):
            break
        assign = new
    return assign


def code_label_mi(values: torch.Tensor, labels: torch.Tensor, bins: int = BINS) -> dict:
    """Mutual information (nats) of each continuous code's values (M, J) with labels (M,), each code binned into
    ``bins`` equal-width bins over its range; and the same divided by H(labels)."""
    entropy = float(mutual_info_score(labels, labels))
    out = {}
    for j in range(values.shape[1]):
        v = values[:, j].float()
        lo, hi = v.min(), v.max()
        binned = ((v - lo) / (hi - lo).clamp_min(1e-12) * bins).long().clamp_(0, bins - 1)
        mi = float(mutual_info_score(binned, labels))
        out[f"cont{j}"] = {"mi": mi, "normalised": mi / entropy if entropy > 0 else 0.0}
    return out
