"""Diagnostic plots of response matrices (``matrix_utils.plot_*``).

Every plot but :func:`plot_compatibility` draws per-truth-bin numbers with a
plotter of the truth binning: one layer (a step histogram) per quantity, in the
plotter's colour cycle. The plotting package (and Matplotlib) is imported only
when a plot is made.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from functools import cache
from typing import IO, TYPE_CHECKING, Any, TypeAlias

import numpy as np
from numpy.typing import NDArray

from remu._rng import RNGLike

from .quality import compatibility, expected_distance_per_truth_bin, mahalanobis_distance

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from remu._binning.binning import Binning
    from remu._plotting.array import ArrayPlotter
    from remu._plotting.cartesian import CartesianProductBinningPlotter

    from .response import ResponseMatrix

__all__ = [
    "plot_compatibility",
    "plot_in_bin_variation",
    "plot_mahalanobis_distance",
    "plot_mean_efficiency",
    "plot_mean_response_matrix",
    "plot_relative_in_bin_variation",
    "plot_statistical_uncertainty",
    "response_plotter_class",
]

#: Where a figure can be saved: a file name or a binary file object.
FileTarget: TypeAlias = str | os.PathLike[str] | IO[bytes]
#: A figure and the plotter's 2-D array of axes (``axes[row, col]``).
FigAx: TypeAlias = "tuple[Figure, NDArray[np.object_]]"
#: One layer: the per-bin values and the keywords of its ``plot_array`` call.
Layer: TypeAlias = tuple[NDArray[np.float64], dict[str, Any]]

#: The per-truth-bin numbers are quantities per bin, not densities (no division
#: by the bin width), and several layers overlap: no hatching.
_PLOT_DEFAULTS: dict[str, Any] = {"hatch": None, "density": False}


@cache
def response_plotter_class() -> type[CartesianProductBinningPlotter]:
    """Return the plotter class of a response binning: "Reco Bin #" against "Truth Bin #".

    Created on first use, so that importing :mod:`remu.matrix_utils` does not
    import Matplotlib.

    Returns
    -------
    type
        A subclass of ``CartesianProductBinningPlotter``, named
        ``_ResponsePlotter`` (its name in ReMU).

    Examples
    --------
    >>> from remu import binning, migration
    >>> rm = migration.ResponseMatrix(binning.LinearBinning("r", [0, 1, 2]),
    ...                               binning.LinearBinning("t", [0, 1, 2]))
    >>> plotter = response_plotter_class()(rm.response_binning)
    >>> type(plotter).__name__, plotter.get_axis_label(0), plotter.get_axis_label(1)
    ('_ResponsePlotter', 'Reco Bin #', 'Truth Bin #')
    """
    from remu._plotting.cartesian import CartesianProductBinningPlotter

    class _ResponsePlotter(CartesianProductBinningPlotter):
        """Plotter of a response binning: reco bin numbers (0) against truth bin numbers (1)."""

        # ReMU's signature: the label of constituent binning ``j_binning``.
        def get_axis_label(self, j_binning: int) -> str:  # type: ignore[override]
            if j_binning == 0:
                return "Reco Bin #"
            if j_binning == 1:
                return "Truth Bin #"
            return f"Binning {j_binning} Bin #"

    _ResponsePlotter.__module__ = "remu.matrix_utils"
    return _ResponsePlotter


def _truth_plotter(truth_binning: Binning) -> ArrayPlotter:
    """Make the plotter of per-truth-bin numbers.

    The plotter that suits the binning, unless it has sub-binnings: projecting
    them out would mix bins of different sub-binnings, so those are plotted
    against the plain bin number.
    """
    from remu._plotting.array import ArrayPlotter
    from remu._plotting.binning import BinningPlotter
    from remu._plotting.dispatch import get_plotter

    if truth_binning.subbinnings:
        return BinningPlotter(truth_binning)
    plotter = get_plotter(truth_binning)
    if not isinstance(plotter, ArrayPlotter):
        msg = (
            f"the plotter registered for {type(truth_binning).__name__} "
            f"({type(plotter).__name__}) cannot plot arrays per truth bin"
        )
        raise TypeError(msg)
    return plotter


def _draw_layers(
    plotter: ArrayPlotter,
    layers: Sequence[Layer],
    *,
    legend: bool,
    filename: FileTarget | None,
) -> FigAx:
    """Draw each layer, then the legend; save if asked to; return ``figax``."""
    for values, keywords in layers:
        plotter.plot_array(values, **keywords)
    if legend:
        plotter.legend()
    if filename is not None:
        plotter.savefig(filename)
    # the figure exists once a layer is drawn: this returns it
    return plotter.subplots()


def _layer_keywords(own: dict[str, Any], common: dict[str, Any], caller: str) -> dict[str, Any]:
    """Return the keywords of a layer that sets ``own`` itself, beside the ``common`` ones.

    A keyword in both is an error, as for a function called with the same
    keyword twice: the layer's own settings are what make it that layer.
    """
    clash = sorted(own.keys() & common.keys())
    if clash:
        msg = f"{caller}() got multiple values for keyword argument {clash[0]!r}"
        raise TypeError(msg)
    return {**own, **common}


def plot_mahalanobis_distance(
    first: ResponseMatrix,
    second: ResponseMatrix,
    filename: FileTarget | None = None,
    plot_expectation: bool = True,
    *,
    rng: RNGLike = None,
    **kwargs: Any,
) -> FigAx:
    r"""Plot the squared Mahalanobis distance per truth bin, with its rough expectation.

    The distance of each truth bin (:func:`mahalanobis_distance`, with its
    defaults) measures how far apart the two matrices are in units of their
    statistical uncertainty: about ``N_reco`` for compatible, well-populated
    bins, less for sparse bins (the shared prior pulls both matrices together),
    much more for incompatible ones. The dashed expectation shows what
    compatible matrices would give. For multi-dimensional truth binnings each
    1-D panel shows sums over the other truth variables: the distances of
    independent bins add up, and so do their expectations.

    Parameters
    ----------
    first, second : ResponseMatrix
        Matrices with the same numbers of reco and truth bins.
    filename : path-like or file object, optional
        Save the figure there.
    plot_expectation : bool
        Also draw the expected distance (dashed, first colour) and a legend.
    rng : None, int, Generator, optional
        Randomness of the distance (``None``: NumPy's global seed).
    **kwargs
        Plot keywords for every layer (``plot_array``), e.g. ``color``. They
        are not passed to the distance, except ``progress`` (``True`` or a dict
        of tqdm options): a bar over the truth bins while the distance is drawn.

    Returns
    -------
    figure : matplotlib.figure.Figure
    axes : ndarray of Axes
        The plotter's 2-D array of axes.

    Raises
    ------
    TypeError
        If ``kwargs`` holds ``label`` or ``linestyle``, which the layers set.
    ValueError, numpy.linalg.LinAlgError
        As :func:`mahalanobis_distance`.

    Examples
    --------
    >>> import io
    >>> import numpy as np
    >>> from matplotlib import pyplot as plt
    >>> from remu import binning, matrix_utils, migration
    >>> def response(seed):
    ...     rm = migration.ResponseMatrix(binning.LinearBinning("r", [0, 1, 2, 3]),
    ...                                   binning.LinearBinning("t", [0, 1.5, 3]))
    ...     rng = np.random.default_rng(seed)
    ...     t = rng.uniform(0, 3, 2000)
    ...     rm.fill(np.rec.fromarrays([t, t + rng.normal(0, 0.5, t.size)], names="t,r"))
    ...     return rm
    >>> fig, axes = matrix_utils.plot_mahalanobis_distance(
    ...     response(1), response(2), io.BytesIO(), rng=0)
    >>> [t.get_text() for t in axes[0, 0].get_legend().get_texts()]
    ['expected', '$D_M^2$']
    >>> plt.close(fig)
    """
    progress = kwargs.pop("progress", False)
    plotter = _truth_plotter(first.truth_binning)
    common = {**_PLOT_DEFAULTS, "margin_function": np.sum, **kwargs}
    caller = "plot_mahalanobis_distance"
    distance = mahalanobis_distance(first, second, rng=rng, progress=progress)
    layers: list[Layer] = []
    if plot_expectation:
        expected = expected_distance_per_truth_bin(first, second)
        style = {"linestyle": "dashed", "label": "expected"}
        layers.append((expected, _layer_keywords(style, common, caller)))
    layers.append((distance, _layer_keywords({"label": r"$D_M^2$"}, common, caller)))
    return _draw_layers(plotter, layers, legend=plot_expectation, filename=filename)


def plot_compatibility(
    first: ResponseMatrix,
    second: ResponseMatrix,
    filename: FileTarget | None = None,
    *,
    rng: RNGLike = None,
    **kwargs: Any,
) -> tuple[Figure, Axes]:
    r"""Histogram of the throw distances with the null distance and a chi-square curve.

    The histogram shows the summed squared distance of each posterior throw
    from the mean difference; the dashed line is the null distance ("no
    difference"). The legend gives both compatibilities of
    :func:`compatibility`: the fraction of the histogram right of the line, and
    the chi-square probability, whose density is drawn for comparison.

    Parameters
    ----------
    first, second : ResponseMatrix
    filename : path-like or file object, optional
        Save the figure there (atomically for paths).
    rng : None, int, Generator, optional
        Randomness of the distances (``None``: NumPy's global seed).
    **kwargs
        Passed to :func:`compatibility` (``N``, ``truth_indices``, ``min_quality``).

    Returns
    -------
    figure : matplotlib.figure.Figure
    ax : matplotlib.axes.Axes
        A single axes.

    Raises
    ------
    remu.errors.InsufficientStatisticsError, ValueError
        As :func:`compatibility`.

    Examples
    --------
    >>> import io
    >>> import numpy as np
    >>> from matplotlib import pyplot as plt
    >>> from remu import binning, matrix_utils, migration
    >>> def response(seed):
    ...     rm = migration.ResponseMatrix(binning.LinearBinning("r", [0, 1, 2, 3]),
    ...                                   binning.LinearBinning("t", [0, 1.5, 3]))
    ...     rng = np.random.default_rng(seed)
    ...     t = rng.uniform(0, 3, 2000)
    ...     rm.fill(np.rec.fromarrays([t, t + rng.normal(0, 0.5, t.size)], names="t,r"))
    ...     return rm
    >>> fig, ax = matrix_utils.plot_compatibility(response(1), response(2), io.BytesIO(), rng=0)
    >>> ax.get_xlabel()
    '$D_M^2$'
    >>> plt.close(fig)
    """
    from scipy import stats

    from remu._io import atomic_open
    from remu._plotting.base import _output_path_and_format, new_subplots

    count, chi2, null, distances, df = compatibility(
        first, second, return_all=True, rng=rng, **kwargs
    )
    fig, ax = new_subplots()
    ax.set_xlabel(r"$D_M^2$")
    nbins = max(min(distances.size // 100, 100), 5)
    ax.hist(
        distances,
        nbins,
        density=True,
        histtype="stepfilled",
        label=f"actual distribution, C={count:.3f}",
    )
    # from 3 standard deviations below the mean of chi2(df) to 5 above
    spread = np.sqrt(2 * df)
    x = np.linspace(df - 3 * spread, df + 5 * spread, 50)
    with np.errstate(under="ignore"):
        pdf = stats.chi2.pdf(x, df)
    ax.plot(x, pdf, label=rf"$\chi^2$ distribution, C={chi2:.3f}")
    ax.axvline(null, label="null distance", color="k", linestyle="dashed")
    ax.legend(loc="best", framealpha=0.5)
    if filename is not None:
        if isinstance(filename, (str, os.PathLike)):
            path, fmt = _output_path_and_format(filename, None, fig)
            with atomic_open(path, "wb") as handle:
                fig.savefig(handle, format=fmt)
        else:
            fig.savefig(filename)
    return fig, ax


def plot_mean_response_matrix(
    response_matrix: ResponseMatrix,
    filename: FileTarget | None = None,
    **kwargs: Any,
) -> FigAx:
    """Plot the posterior mean matrix: truth bins on x, reco bins on y, with projections.

    The top panel is the sum over reco bins, the mean efficiency of each truth
    bin; the right panel the sum over truth bins.

    Parameters
    ----------
    response_matrix : ResponseMatrix
    filename : path-like or file object, optional
        Save the figure there.
    **kwargs
        Plot keywords for ``plot_array``.

    Returns
    -------
    figure : matplotlib.figure.Figure
    axes : ndarray of Axes
        The 2x2 corner plot.

    Raises
    ------
    ValueError
        If ``filename`` names a file format Matplotlib cannot write.

    Examples
    --------
    >>> import io
    >>> import numpy as np
    >>> from matplotlib import pyplot as plt
    >>> from remu import binning, matrix_utils, migration
    >>> rm = migration.ResponseMatrix(binning.LinearBinning("r", [0, 1, 2]),
    ...                               binning.LinearBinning("t", [0, 1, 2]))
    >>> rm.fill(np.rec.fromarrays([[0.5, 1.5, 1.5], [0.5, 1.5, 0.5]], names="t,r"))
    >>> fig, axes = matrix_utils.plot_mean_response_matrix(rm, io.BytesIO())
    >>> axes.shape, axes[1, 0].get_xlabel()
    ((2, 2), 'Truth Bin #')
    >>> plt.close(fig)
    """
    resp = response_matrix.get_mean_response_matrix_as_ndarray().flatten()
    plotter = response_plotter_class()(
        response_matrix.response_binning, x_axis_binnings=[1], y_axis_binnings=[0]
    )
    keywords = {**_PLOT_DEFAULTS, "margin_function": np.sum, **kwargs}
    return _draw_layers(plotter, [(resp, keywords)], legend=False, filename=filename)


#: Summaries of a per-bin quantity over the other truth variables, with labels.
_SUMMARIES: tuple[tuple[Callable[..., Any], str | None], ...] = (
    (np.min, "min"),
    (np.max, "max"),
    (np.median, "median"),
)


def _plot_per_truth_bin(
    response_matrix: ResponseMatrix,
    values: NDArray[np.float64],
    filename: FileTarget | None,
    kwargs: dict[str, Any],
) -> FigAx:
    """Draw a per-truth-bin quantity: its min, max and median over the other variables.

    With sub-binnings (plain bin numbers on the axis) only the median is drawn,
    without a legend. User keywords override the defaults (including the
    ``margin_function`` and ``label`` of each layer).
    """
    truth = response_matrix.truth_binning
    with_summaries = not truth.subbinnings
    summaries = _SUMMARIES if with_summaries else ((np.median, None),)
    layers = [
        (values, {**_PLOT_DEFAULTS, "margin_function": function, "label": label, **kwargs})
        for function, label in summaries
    ]
    return _draw_layers(_truth_plotter(truth), layers, legend=with_summaries, filename=filename)


def _matrix_shape(response_matrix: ResponseMatrix) -> tuple[int, int]:
    return (response_matrix.reco_binning.data_size, response_matrix.truth_binning.data_size)


def plot_in_bin_variation(
    response_matrix: ResponseMatrix,
    filename: FileTarget | None = None,
    **kwargs: Any,
) -> FigAx:
    """Plot the largest absolute in-bin variation of the response per truth bin.

    The in-bin variation (:meth:`ResponseMatrix.get_in_bin_variation_as_ndarray`
    with ``normalize=False``) measures how much the response changes within a
    truth bin; the largest over the reco bins is drawn. For multi-dimensional
    truth binnings the min, max and median over the other truth variables are
    drawn.

    Parameters
    ----------
    response_matrix : ResponseMatrix
    filename : path-like or file object, optional
        Save the figure there.
    **kwargs
        Plot keywords for ``plot_array``.

    Returns
    -------
    figure : matplotlib.figure.Figure
    axes : ndarray of Axes

    Raises
    ------
    ValueError
        If ``filename`` names a file format Matplotlib cannot write.

    Examples
    --------
    >>> import io
    >>> import numpy as np
    >>> from matplotlib import pyplot as plt
    >>> from remu import binning, matrix_utils, migration
    >>> rm = migration.ResponseMatrix(binning.LinearBinning("r", [0, 1, 2]),
    ...                               binning.LinearBinning("t", [0, 1, 2]))
    >>> rm.fill(np.rec.fromarrays([[0.5, 0.5, 1.5, 1.5], [0.5, 1.5, 1.5, 0.5]],
    ...                           names="t,r"))
    >>> fig, axes = matrix_utils.plot_in_bin_variation(rm, io.BytesIO())
    >>> sorted(t.get_text() for t in axes[0, 0].get_legend().get_texts())
    ['max', 'median', 'min']
    >>> plt.close(fig)
    """
    var = response_matrix.get_in_bin_variation_as_ndarray(
        normalize=False, shape=_matrix_shape(response_matrix)
    )
    return _plot_per_truth_bin(response_matrix, var.max(axis=0), filename, kwargs)


def plot_relative_in_bin_variation(
    response_matrix: ResponseMatrix,
    filename: FileTarget | None = None,
    **kwargs: Any,
) -> FigAx:
    """Plot the largest in-bin variation per truth bin in units of the statistical error.

    Values well above 1 mean the response varies within the truth bin more than
    the statistics resolve: the bin is too wide (or the model dependence
    large).

    Parameters
    ----------
    response_matrix : ResponseMatrix
    filename : path-like or file object, optional
        Save the figure there.
    **kwargs
        Plot keywords for ``plot_array``.

    Returns
    -------
    figure : matplotlib.figure.Figure
    axes : ndarray of Axes

    Raises
    ------
    ValueError
        If ``filename`` names a file format Matplotlib cannot write.

    Examples
    --------
    >>> import io
    >>> import numpy as np
    >>> from matplotlib import pyplot as plt
    >>> from remu import binning, matrix_utils, migration
    >>> rm = migration.ResponseMatrix(binning.LinearBinning("r", [0, 1, 2]),
    ...                               binning.LinearBinning("t", [0, 1, 2]))
    >>> rm.fill(np.rec.fromarrays([[0.5, 0.5, 1.5, 1.5], [0.5, 1.5, 1.5, 0.5]],
    ...                           names="t,r"))
    >>> fig, axes = matrix_utils.plot_relative_in_bin_variation(rm, io.BytesIO())
    >>> axes[0, 0].get_xlabel()
    't'
    >>> plt.close(fig)
    """
    var = response_matrix.get_in_bin_variation_as_ndarray(
        normalize=True, shape=_matrix_shape(response_matrix)
    )
    return _plot_per_truth_bin(response_matrix, var.max(axis=0), filename, kwargs)


def plot_statistical_uncertainty(
    response_matrix: ResponseMatrix,
    filename: FileTarget | None = None,
    **kwargs: Any,
) -> FigAx:
    """Plot the largest statistical standard deviation of the response per truth bin.

    Parameters
    ----------
    response_matrix : ResponseMatrix
    filename : path-like or file object, optional
        Save the figure there.
    **kwargs
        Plot keywords for ``plot_array``.

    Returns
    -------
    figure : matplotlib.figure.Figure
    axes : ndarray of Axes

    Raises
    ------
    ValueError
        If ``filename`` names a file format Matplotlib cannot write.

    Examples
    --------
    >>> import io
    >>> import numpy as np
    >>> from matplotlib import pyplot as plt
    >>> from remu import binning, matrix_utils, migration
    >>> rm = migration.ResponseMatrix(binning.LinearBinning("r", [0, 1, 2]),
    ...                               binning.LinearBinning("t", [0, 1, 2]))
    >>> rm.fill(np.rec.fromarrays([[0.5, 0.5, 1.5, 1.5], [0.5, 1.5, 1.5, 0.5]],
    ...                           names="t,r"))
    >>> fig, axes = matrix_utils.plot_statistical_uncertainty(rm, io.BytesIO())
    >>> sorted(t.get_text() for t in axes[0, 0].get_legend().get_texts())
    ['max', 'median', 'min']
    >>> plt.close(fig)
    """
    var = response_matrix.get_statistical_variance_as_ndarray(shape=_matrix_shape(response_matrix))
    return _plot_per_truth_bin(response_matrix, np.sqrt(var).max(axis=0), filename, kwargs)


def plot_mean_efficiency(
    response_matrix: ResponseMatrix,
    filename: FileTarget | None = None,
    nuisance_value: float = 0.0,
    **kwargs: Any,
) -> FigAx:
    """Plot the posterior mean efficiency per truth bin.

    Parameters
    ----------
    response_matrix : ResponseMatrix
    filename : path-like or file object, optional
        Save the figure there.
    nuisance_value : float
        Value shown for nuisance bins (their efficiency is 1 by definition).
    **kwargs
        Plot keywords for ``plot_array``.

    Returns
    -------
    figure : matplotlib.figure.Figure
    axes : ndarray of Axes

    Raises
    ------
    ValueError
        If ``filename`` names a file format Matplotlib cannot write.

    Examples
    --------
    >>> import io
    >>> import numpy as np
    >>> from matplotlib import pyplot as plt
    >>> from remu import binning, matrix_utils, migration
    >>> rm = migration.ResponseMatrix(binning.LinearBinning("r", [0, 1, 2]),
    ...                               binning.LinearBinning("t", [0, 1, 2]))
    >>> rm.fill(np.rec.fromarrays([[0.5, 0.5, 1.5, 1.5], [0.5, 1.5, 1.5, 0.5]],
    ...                           names="t,r"))
    >>> fig, axes = matrix_utils.plot_mean_efficiency(rm, io.BytesIO())
    >>> len(axes[0, 0].collections)  # min, max and median
    3
    >>> plt.close(fig)
    """
    mean = response_matrix.get_mean_response_matrix_as_ndarray(shape=_matrix_shape(response_matrix))
    eff = mean.sum(axis=0)
    eff[response_matrix.nuisance_indices] = nuisance_value
    return _plot_per_truth_bin(response_matrix, eff, filename, kwargs)
