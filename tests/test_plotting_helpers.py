"""Helpers shared by the plotting tests (no tests here): read back bands, labels, PNGs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.collections import PolyCollection


def bands(ax) -> list[PolyCollection]:
    """The step bands (fill_between collections) of one Axes, in drawing order."""
    return [c for c in ax.collections if isinstance(c, PolyCollection)]


def band_extent(band: PolyCollection, centres, *, vertical: bool = False):
    """Lower and upper edge of a step band at the given bin centres.

    A band drawn with ``step="post"`` has horizontal segments spanning each bin;
    the segments crossing the line through a bin centre give that bin's lower and
    upper edge. For bands drawn with ``fill_betweenx`` the roles of x and y swap.
    """
    centres = np.asarray(centres, dtype=float)
    lo = np.full(centres.shape, np.inf)
    hi = np.full(centres.shape, -np.inf)
    for path in band.get_paths():
        v = path.vertices
        if vertical:
            v = v[:, ::-1]
        a, b = v, np.roll(v, -1, axis=0)
        x0, x1 = np.minimum(a[:, 0], b[:, 0]), np.maximum(a[:, 0], b[:, 0])
        # the tolerance rtol * |b| underflows for values near the smallest normal float
        with np.errstate(under="ignore"):
            horizontal = np.isclose(a[:, 1], b[:, 1])
        crosses = (x0[None, :] < centres[:, None]) & (centres[:, None] < x1[None, :])
        crosses &= horizontal[None, :]
        y = np.where(crosses, a[None, :, 1], np.nan)
        with np.errstate(invalid="ignore"):
            lo = np.fmin(lo, np.nanmin(np.where(crosses, y, np.inf), axis=1))
            hi = np.fmax(hi, np.nanmax(np.where(crosses, y, -np.inf), axis=1))
    return lo, hi


def legend_texts(ax) -> list[str]:
    legend = ax.get_legend()
    assert legend is not None, "no legend drawn"
    return [t.get_text() for t in legend.get_texts()]


def check_png(path: Path, min_bytes: int = 3000) -> np.ndarray:
    """Assert ``path`` is a real, non-blank PNG image; return its pixels."""
    import matplotlib.image as mpimg

    assert path.is_file(), f"{path} was not written"
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > min_bytes, f"{path} is suspiciously small ({len(data)} bytes)"
    pixels = mpimg.imread(path)
    colours = np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0)
    assert len(colours) > 10, "the image is (almost) blank"
    return pixels
