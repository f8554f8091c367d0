"""The plotter base class: one figure per plotter, colour and hatch cycles, saving.

How figures are created (headless by default, the user's backend respected)
---------------------------------------------------------------------------
remu never selects or switches a Matplotlib backend and never calls ``show()``.

* If :mod:`matplotlib.pyplot` has already been imported in the process (the user
  works with pyplot, e.g. in a notebook or with ``plt.show()``), figures are
  created with :func:`matplotlib.pyplot.subplots`, so they belong to pyplot's
  figure list and appear with the backend the user (or Matplotlib's own
  automatic choice, which falls back to Agg without a display) selected.
* Otherwise a detached :class:`matplotlib.figure.Figure` is created. It renders
  with Agg (or the PDF/SVG/PS canvas, chosen by the file format) when saved,
  imports no GUI toolkit, touches no global state and is freed like any other
  Python object. This is what scripts, batch jobs and worker processes get.

Either way :meth:`Plotter.savefig` writes the file atomically, and a plotter that
is garbage-collected closes its figure in pyplot (if pyplot manages it); the
:class:`~matplotlib.figure.Figure` object itself stays usable.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sys
from pathlib import Path
from typing import Any, cast

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure

from remu._io import atomic_open

__all__ = ["Plotter", "new_subplots"]

#: Keyword arguments of ``subplots`` that describe the grid; the rest go to the Figure.
_GRID_KEYWORDS = frozenset(
    {
        "nrows",
        "ncols",
        "sharex",
        "sharey",
        "squeeze",
        "width_ratios",
        "height_ratios",
        "subplot_kw",
        "gridspec_kw",
    }
)

COLORS = tuple(f"C{i}" for i in range(10))
HATCHES = ("//", "\\\\", "O", "*")


def new_subplots(*args: Any, **kwargs: Any) -> tuple[Figure, Any]:
    """Create a figure and a grid of axes, like :func:`matplotlib.pyplot.subplots`.

    Uses pyplot when the user has imported it, a detached (headless) Figure
    otherwise; see the module documentation.

    Parameters
    ----------
    *args, **kwargs
        As for :func:`matplotlib.pyplot.subplots` (``nrows``, ``ncols``,
        ``sharex``, ``squeeze``, ``gridspec_kw``, ... and Figure keywords such as
        ``figsize``).

    Returns
    -------
    (Figure, Axes or ndarray of Axes)

    Examples
    --------
    >>> fig, axes = new_subplots(nrows=2, squeeze=False, figsize=(4, 3))
    >>> axes.shape
    (2, 1)
    """
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        return cast("tuple[Figure, Any]", pyplot.subplots(*args, **kwargs))
    grid_kw = {key: value for key, value in kwargs.items() if key in _GRID_KEYWORDS}
    fig_kw = {key: value for key, value in kwargs.items() if key not in _GRID_KEYWORDS}
    fig = Figure(**fig_kw)
    return fig, fig.subplots(*args, **grid_kw)


def _output_path_and_format(
    fname: str | os.PathLike[str], fmt: str | None, fig: Figure
) -> tuple[str, str]:
    """Resolve the file name and format as :meth:`Figure.savefig` would."""
    path = os.fspath(fname)
    if fmt is None:
        fmt = Path(path).suffix[1:]
        if not fmt:
            # Matplotlib appends the default format's extension to a bare name.
            fmt = mpl.rcParams["savefig.format"]
            path = path.rstrip(".") + "." + fmt
    fmt = fmt.lower()
    supported = fig.canvas.get_supported_filetypes()
    if fmt not in supported:
        msg = (
            f"cannot save figure to {path!r}: format {fmt!r} is not supported "
            f"(supported: {', '.join(sorted(supported))})"
        )
        raise ValueError(msg)
    return path, fmt


class Plotter:
    r"""Base class of all plotters: owns one figure, cycles colours and hatches.

    Parameters
    ----------
    figax : tuple of (Figure, ndarray of Axes), optional
        A figure and a 2-D array of axes (``axes[row, col]``, as returned by
        ``subplots(..., squeeze=False)``) to draw into. Its layout must be the
        one the subclass expects; it is not checked. If ``None``, a figure is
        created by the first ``plot_*`` call.

    Attributes
    ----------
    figax : tuple of (Figure, ndarray of Axes) or None
        The figure and its axes, once created.
    color : itertools.cycle
        Colours ``"C0"`` ... ``"C9"`` for the next layers.
    hatch : itertools.cycle
        Hatches ``"//"``, ``"\\"``, ``"O"``, ``"*"`` for the next layers.

    Notes
    -----
    When the plotter is garbage-collected its figure is closed in pyplot (if
    pyplot manages it). Keep a reference to the plotter, or to the figure,
    as long as you need it.

    Examples
    --------
    A plotter of plain lines, one colour per layer:

    >>> import os
    >>> import tempfile
    >>> class LinePlotter(Plotter):
    ...     def plot_line(self, y, **kwargs):
    ...         fig, axes = self.subplots(squeeze=False)
    ...         axes[0, 0].plot(y, color=next(self.color), **kwargs)
    >>> pltr = LinePlotter()
    >>> pltr.figax is None
    True
    >>> pltr.plot_line([1, 3, 2])
    >>> pltr.plot_line([2, 2, 1])
    >>> [line.get_color() for line in pltr.figax[1][0, 0].lines]
    ['C0', 'C1']
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     pltr.savefig(os.path.join(folder, "lines.png"))
    ...     os.listdir(folder)
    ['lines.png']
    >>> del pltr  # closes the figure in pyplot, if pyplot manages it
    """

    def __init__(self, figax: tuple[Figure, np.ndarray] | None = None) -> None:
        self.figax = figax
        self.color = itertools.cycle(COLORS)
        self.hatch = itertools.cycle(HATCHES)

    def __del__(self) -> None:
        figax = getattr(self, "figax", None)
        pyplot = sys.modules.get("matplotlib.pyplot")
        if figax is None or pyplot is None:
            return
        # During interpreter shutdown pyplot may be half torn down: closing is best effort.
        with contextlib.suppress(Exception):
            pyplot.close(figax[0])

    def subplots(self, *args: Any, **kwargs: Any) -> tuple[Figure, np.ndarray]:
        """Create the figure on first use; afterwards return the existing one.

        Parameters
        ----------
        *args, **kwargs
            As for :func:`matplotlib.pyplot.subplots`; ignored when the figure
            already exists.

        Returns
        -------
        tuple of (Figure, ndarray of Axes)
            ``self.figax``.
        """
        if self.figax is None:
            self.figax = new_subplots(*args, **kwargs)
        return self.figax

    def _require_figure(self, action: str) -> tuple[Figure, np.ndarray]:
        if self.figax is None:
            msg = f"cannot {action}: nothing has been plotted yet (call a plot_* method first)"
            raise TypeError(msg)
        return self.figax

    def savefig(self, *args: Any, **kwargs: Any) -> None:
        """Save the figure, with ``bbox_inches="tight"`` unless told otherwise.

        A file name is written atomically: the file appears complete or not at
        all.

        Parameters
        ----------
        *args, **kwargs
            As for :meth:`matplotlib.figure.Figure.savefig` (file name or file
            object first; ``dpi``, ``format``, ``bbox_inches``, ...).

        Raises
        ------
        TypeError
            If nothing has been plotted yet.
        ValueError
            If the file format is not supported.
        """
        fig = self._require_figure("save the figure")[0]
        kw = {"bbox_inches": "tight", **kwargs}
        args_list = list(args)
        if args_list:
            fname = args_list.pop(0)
        elif "fname" in kw:
            fname = kw.pop("fname")
        else:
            msg = "savefig() needs a file name or a file object"
            raise TypeError(msg)
        if not isinstance(fname, (str, os.PathLike)):
            fig.savefig(fname, *args_list, **kw)
            return
        path, fmt = _output_path_and_format(fname, kw.pop("format", None), fig)
        with atomic_open(path, "wb") as handle:
            fig.savefig(handle, *args_list, format=fmt, **kw)
