"""The :class:`ResponseMatrix`: three histograms filled together, and its posterior."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from copy import deepcopy
from typing import IO, Any, TypeVar
from warnings import warn

import numpy as np
from numpy.typing import ArrayLike, NDArray

from remu._binning.binning import Binning
from remu._binning.cartesian import CartesianProductBinning
from remu._binning.structure import DATA_ARRAYS
from remu._formats.npz_response import write_response_npz
from remu._logging import get_logger
from remu._progress import ProgressLike
from remu._rng import RNGLike, as_generator
from remu.errors import (
    IllegalResponseError,
    IndexOutOfRangeError,
    InputError,
    MissingVariableError,
    RemuWarning,
)

from . import posterior
from .fill import fill_matrix

__all__ = ["ResponseMatrix"]

_LOG = get_logger("migration")
_F = TypeVar("_F", bound=Callable[..., Any])
#: the attributes holding the three histograms that a response matrix fills together
_HISTOGRAMS = ("truth_binning", "reco_binning", "response_binning")
_QUANTITIES = {array.quantity: array for array in DATA_ARRAYS}


def _check_index_range(indices: Any, size: int, what: str) -> NDArray[np.intp]:
    """Return ``indices`` as an int array, raising if any is outside ``[-size, size)``."""
    arr = np.asarray(indices)
    if arr.dtype == bool:
        if arr.shape != (size,):
            msg = f"{what}: boolean mask must have length {size}; got shape {arr.shape}"
            raise IndexOutOfRangeError(msg)
        return np.flatnonzero(arr)
    if arr.size == 0:
        return np.zeros(arr.shape, dtype=np.intp)
    if not np.issubdtype(arr.dtype, np.integer):
        msg = f"{what} must be integers; got {indices!r}"
        raise TypeError(msg)
    bad = arr[(arr < -size) | (arr >= size)]
    if bad.size:
        msg = f"{what} out of range for {size} bins: {bad.tolist()}"
        raise IndexOutOfRangeError(msg)
    return arr.astype(np.intp)


def _available_columns(event: Any) -> set[str] | None:
    """Names an event container provides, or None when they cannot be told cheaply."""
    names = getattr(getattr(event, "dtype", None), "names", None)
    if names is not None:
        return set(names)
    if hasattr(event, "columns") and hasattr(event, "itertuples"):
        return {str(c) for c in event.columns}
    if isinstance(event, Mapping):
        return set(event.keys())
    if isinstance(event, (list, tuple)) and event and all(isinstance(e, Mapping) for e in event):
        common = set(event[0].keys())
        for e in event[1:]:
            common &= e.keys()
        return common
    return None


#: What each data array holds, for the accessors' docstrings.
_CONTENT = {
    "values": "values (sums of weights)",
    "entries": "entries (numbers of events)",
    "sumw2": "sums of squared weights",
}
#: The number of data elements of each histogram, for the accessors' docstrings.
_SIZE = {"truth": "``N_truth``", "reco": "``N_reco``", "response": "``N_reco * N_truth``"}
_LAYOUT = (
    " With ``shape=(N_reco, N_truth)``, element ``[i, j]`` is reco data index ``i`` and "
    "truth data index ``j``."
)


def _array_getter(histogram: str, quantity: str) -> Callable[..., NDArray[Any]]:
    """Make the method ``get_<histogram>_<quantity>_as_ndarray`` of :class:`ResponseMatrix`.

    It returns the binning's ``get_<quantity>_as_ndarray(shape=None, indices=None)``
    of the ``<histogram>_binning`` (a copy).
    """
    array = _QUANTITIES[quantity]
    attribute = f"{histogram}_binning"

    def getter(self: ResponseMatrix, *args: Any, **kwargs: Any) -> NDArray[Any]:
        values: NDArray[Any] = getattr(getattr(self, attribute), array.getter)(*args, **kwargs)
        return values

    doc = (
        f"{histogram.capitalize()} {_CONTENT[quantity]}: a copy, "
        f"``shape=None, indices=None`` as in :meth:`remu.binning.Binning.{array.getter}`."
    )
    if histogram == "response":
        doc += _LAYOUT
    dtype = "np.int64" if quantity == "entries" else "np.float64"
    return _named(getter, f"get_{histogram}_{quantity}_as_ndarray", doc, f"NDArray[{dtype}]")


def _array_setter(histogram: str, quantity: str) -> Callable[[ResponseMatrix, ArrayLike], None]:
    """Make the method ``set_<histogram>_<quantity>_from_ndarray`` of :class:`ResponseMatrix`.

    It checks the number of elements (and, for entries, that none is negative) and
    writes them into the ``<histogram>_binning``. Only the truth entries setter
    refreshes ``filled_truth_indices``, as in ReMU.
    """
    array = _QUANTITIES[quantity]
    attribute = f"{histogram}_binning"
    counts = quantity == "entries"
    refreshes = histogram == "truth" and counts

    def setter(self: ResponseMatrix, arr: ArrayLike) -> None:
        binning = getattr(self, attribute)
        checked = self._checked(arr, binning.data_size, f"{histogram} {quantity}", counts=counts)
        getattr(binning, array.setter)(checked)
        if refreshes:
            self._update_filled_indices()

    doc = (
        f"Overwrite the {histogram} {_CONTENT[quantity]}: {_SIZE[histogram]} elements, "
        "in any shape."
    )
    if refreshes:
        doc += " Refreshes ``filled_truth_indices``."
    doc += (
        "\n\nRaises\n------\nremu.errors.InputError\n"
        "    (a ``ValueError``) For another number of elements"
        + (", or negative entries." if counts else ".")
    )
    return _named(setter, f"set_{histogram}_{quantity}_from_ndarray", doc, "None")


def _named(function: _F, name: str, doc: str, returns: str) -> _F:
    """Name ``function`` as the method ``ResponseMatrix.<name>``, documented by ``doc``."""
    function.__name__ = name
    function.__qualname__ = f"ResponseMatrix.{name}"
    function.__doc__ = doc
    function.__annotations__ = {**function.__annotations__, "return": returns}
    return function


class ResponseMatrix:
    """Detector response: how events of each truth bin spread over the reco bins.

    Three histograms are filled together: ``truth_binning`` (all events, by
    their true properties), ``reco_binning`` (reconstructed events, by their
    reconstructed properties) and ``response_binning``, the joint
    ``CartesianProductBinning([reco, truth])``. The response probability of
    truth data index ``j`` to reco data index ``i`` is
    ``response[i, j] / truth[j]``; the Bayesian estimators add priors and
    statistical uncertainties.

    Parameters
    ----------
    reco_binning : Binning
        Binning of the reconstructed variables (kept by reference: filling the
        matrix fills it).
    truth_binning : Binning
        Binning of the true variables (kept by reference).
    nuisance_indices : list of int, optional
        Truth data indices whose efficiency is 1 by definition (backgrounds,
        noise): their truth value means "number of reconstructed events".
    impossible_indices : list of int, optional
        Reco data indices that can never receive events.
    response_binning : Binning, optional
        The joint histogram; by default a new, empty
        ``CartesianProductBinning([reco.clone(dummy=True), truth.clone(dummy=True)])``.

    Raises
    ------
    TypeError
        If a binning is not a :class:`remu.binning.Binning`.
    ValueError
        If ``response_binning`` does not have ``N_reco * N_truth`` data elements.

    Examples
    --------
    >>> import numpy as np
    >>> from remu import binning, migration
    >>> reco = binning.LinearBinning("reco_x", [0.0, 1.0, 2.0, 3.0])
    >>> truth = binning.LinearBinning("true_x", [0.0, 1.5, 3.0])
    >>> resp = migration.ResponseMatrix(reco, truth)
    >>> resp.fill([{"true_x": 0.2, "reco_x": 0.4},
    ...            {"true_x": 2.0, "reco_x": 2.5},
    ...            {"true_x": 2.2, "reco_x": np.nan}])
    >>> resp.get_response_matrix_as_ndarray()
    array([[1. , 0. ],
           [0. , 0. ],
           [0. , 0.5]])
    >>> resp.filled_truth_indices
    array([0, 1])
    """

    def __init__(
        self,
        reco_binning: Binning,
        truth_binning: Binning,
        nuisance_indices: list[int] | None = None,
        impossible_indices: list[int] | None = None,
        response_binning: Binning | None = None,
    ) -> None:
        for name, b in (("reco_binning", reco_binning), ("truth_binning", truth_binning)):
            if not isinstance(b, Binning):
                msg = f"{name} must be a remu.binning.Binning; got {type(b).__name__}"
                raise TypeError(msg)
        self.truth_binning = truth_binning
        self.reco_binning = reco_binning
        if response_binning is None:
            response_binning = CartesianProductBinning(
                [reco_binning.clone(dummy=True), truth_binning.clone(dummy=True)]
            )
        elif not isinstance(response_binning, Binning):
            msg = f"response_binning must be a remu.binning.Binning; got {type(response_binning).__name__}"
            raise TypeError(msg)
        expected = reco_binning.data_size * truth_binning.data_size
        if response_binning.data_size != expected:
            msg = (
                f"response_binning has {response_binning.data_size} data elements, but the "
                f"reco ({reco_binning.data_size}) x truth ({truth_binning.data_size}) "
                f"binnings need {expected}"
            )
            raise InputError(msg)
        self.response_binning = response_binning
        self.nuisance_indices = [] if nuisance_indices is None else nuisance_indices
        self.impossible_indices = [] if impossible_indices is None else impossible_indices
        self._update_filled_indices()

    # ------------------------------------------------------------------ helpers

    @property
    def _shape(self) -> tuple[int, int]:
        return (self.reco_binning.data_size, self.truth_binning.data_size)

    def _update_filled_indices(self) -> None:
        entries = self.truth_binning.entries_array
        if entries is None:
            msg = "truth_binning is a dummy binning (it has no data arrays); use clone(dummy=False)"
            raise TypeError(msg)
        self.filled_truth_indices = np.flatnonzero(entries > 0).astype(np.int64)

    def _check_event_variables(self, event: Any, rename: Mapping[str, str] | None) -> None:
        available = _available_columns(event)
        if available is None:
            return
        if rename:
            available |= {new for old, new in rename.items() if old in available}
        for label, b in (("truth", self.truth_binning), ("reco", self.reco_binning)):
            needed = getattr(b.phasespace, "variables", ())
            missing = sorted(v for v in needed if v not in available)
            if missing:
                msg = (
                    f"event data has no {label} variable {missing[0]!r} needed by the "
                    f"{label} binning (available: {', '.join(sorted(available)) or 'none'})"
                )
                raise MissingVariableError(msg)

    # ------------------------------------------------------------------ filling

    def fill(
        self,
        event: Any,
        weight: Any = 1,
        raise_error: bool = False,
        rename: Mapping[str, str] | None = None,
        *,
        compute: bool = True,
        progress: ProgressLike = False,
    ) -> Any:
        """Fill events into the truth, reco and response histograms.

        The events are converted once and each event's truth and reco bins are
        looked up once for all three histograms.

        Parameters
        ----------
        event
            As :meth:`remu.binning.Binning.fill`: one event, a dict of arrays, a
            list of mappings, a structured array, a DataFrame, an awkward record
            array, or a Dask collection (a ``dask.dataframe.DataFrame``, a dict of
            1-D dask arrays, a dask-awkward array). Events hold both
            the true and the reconstructed variables; an event whose reco
            variables lie outside the reco binning (e.g. NaN: not reconstructed)
            only enters the truth histogram.
        weight : float or sequence of float
            One weight for all events, or one per event.
        raise_error : bool
            Raise ``ValueError`` if an event lies outside a histogram. The checks
            run in the order truth, reco, response, each before that histogram is
            filled (as ReMU does): an event outside the reco binning raises after
            the truth histogram was filled.
        rename : dict, optional
            Input name -> binning variable name.
        compute : bool
            Dask events only, as for :meth:`remu.binning.Binning.fill`: ``True``
            fills now on the current Dask scheduler; ``False`` returns a
            ``dask.delayed`` object computing to a new ResponseMatrix (same
            binnings, nuisance and impossible indices) holding only these events;
            add it to this one with ``+``. With Dask events ``raise_error`` is
            checked for all three histograms before anything is filled.
        progress : bool or dict
            Dask events only: ``True`` shows a tqdm bar advancing by partition
            (``pip install 'remu[progress]'``); a dict passes options to tqdm.

        Returns
        -------
        None, or a ``dask.delayed.Delayed`` with ``compute=False``.

        Raises
        ------
        remu.errors.MissingVariableError
            (a ``KeyError``) If the event data lacks a truth or reco variable;
            nothing is filled then.

        Examples
        --------
        >>> import numpy as np
        >>> from remu import binning, migration
        >>> resp = migration.ResponseMatrix(binning.LinearBinning("r", [0, 1, 2]),
        ...                                 binning.LinearBinning("t", [0, 1, 2]))
        >>> resp.fill({"t": np.array([0.5, 1.5, 1.2]), "r": np.array([0.7, 1.1, np.nan])})
        >>> resp.get_truth_entries_as_ndarray(), resp.get_reco_entries_as_ndarray()
        (array([1, 2]), array([1, 1]))
        """
        return fill_matrix(
            self, event, weight, raise_error, rename, compute=compute, progress=progress
        )

    def fill_from_csv_file(self, *args: Any, **kwargs: Any) -> None:
        """Fill events from CSV file(s), parsing each file once for all three histograms.

        Parameters
        ----------
        *args, **kwargs
            As :meth:`remu.binning.Binning.fill_from_csv_file`: ``filename``
            (str or list of str), ``weightfield=None``, ``weight=1.0``,
            ``rename=None``, ``cut_function=lambda x: x``,
            ``buffer_csv_files=False``, ``chunksize=10000``, ``progress=False``
            (``True``: a tqdm bar advancing file by file); other keywords go to
            ``fill`` (e.g. ``raise_error``).

        Raises
        ------
        remu.errors.IllegalResponseError
            (a ``RuntimeError``) If the filled matrix is inconsistent (negative
            weights, more reconstructed than true weight).

        Notes
        -----
        After each file, the ``remu.migration`` logger reports at INFO the number
        of events and how many fell outside the truth, reco and response binnings,
        and warns when no event landed in one of them.
        """
        from remu._formats.csv_events import fill_multiple_from_csv_file

        fill_multiple_from_csv_file(
            Binning,
            [self.truth_binning, self.reco_binning, self.response_binning],
            *args,
            labels=["truth binning", "reco binning", "response binning"],
            log_area="migration",
            **kwargs,
        )
        self._fix_rounding_errors()
        self._update_filled_indices()

    def fill_up_truth_from_csv_file(self, *args: Any, **kwargs: Any) -> None:
        """Replace truth bins by a fuller truth sample read from CSV file(s).

        For generated events that are stored apart from the reconstructed ones:
        a copy of the truth binning is filled from the file(s) and, in every
        bin where it holds more (values and entries), its content replaces the
        current truth content. Arguments as :meth:`fill_from_csv_file`.

        Raises
        ------
        remu.errors.IllegalResponseError
            (a ``RuntimeError``) If the fuller sample has negative values, or the
            result is inconsistent.

        Warns
        -----
        remu.errors.RemuWarning
            (a ``UserWarning``) If the fuller sample holds fewer values or entries
            than the current filling in some bins; those bins are kept as they are.
        """
        new_truth = deepcopy(self.truth_binning)
        new_truth.reset()
        new_truth.fill_from_csv_file(*args, **kwargs)
        self._replace_smaller_truth(new_truth)

    def fill_up_truth(self, *args: Any, **kwargs: Any) -> None:
        """Replace truth bins by a fuller in-memory truth sample.

        Same as :meth:`fill_up_truth_from_csv_file`, with the events passed to
        :meth:`remu.binning.Binning.fill` (in-memory events or Dask collections;
        the fill happens now, ``compute=False`` is refused).

        Raises
        ------
        TypeError
            For ``compute=False``.
        remu.errors.IllegalResponseError
            As for :meth:`fill_up_truth_from_csv_file`.

        Warns
        -----
        remu.errors.RemuWarning
            As for :meth:`fill_up_truth_from_csv_file`.
        """
        if kwargs.get("compute", True) is not True:
            msg = "fill_up_truth fills now: compute=False is not supported"
            raise TypeError(msg)
        new_truth = deepcopy(self.truth_binning)
        new_truth.reset()
        new_truth.fill(*args, **kwargs)
        self._replace_smaller_truth(new_truth)

    def fill_from_root(self, files: Any, *args: Any, **kwargs: Any) -> Any:
        """Fill events from ROOT files, reading each chunk once for all three histograms.

        Parameters
        ----------
        files, *args, **kwargs
            As :meth:`remu.binning.Binning.fill_from_root`: ``files``
            (``"file.root:tree"``, wildcards, lists, ``{path: tree}``),
            ``weightfield=None``, ``weight=1.0``, ``rename=None``,
            ``cut_function=None`` and the keywords ``branches``, ``flatten``,
            ``step_size``, ``dask``, ``compute``, ``raise_error``, ``progress``.
            The branches read are the truth and reco variables, ``weightfield``
            and ``branches``.

        Returns
        -------
        None, or a ``dask.delayed.Delayed`` with ``dask=True, compute=False``
        (computing to a new ResponseMatrix holding only these events).

        Raises
        ------
        remu.errors.IllegalResponseError
            (a ``RuntimeError``) If the filled matrix is inconsistent (negative
            weights, more reconstructed than true weight), as for
            :meth:`fill_from_csv_file`.
        remu.errors.MissingFieldError
            A branch that is not in a tree.
        """
        from remu._sources.root import fill_from_root

        from .fill import ResponsePlan

        result = fill_from_root(ResponsePlan.of(self), files, *args, **kwargs)
        if result is None:
            self._fix_rounding_errors()
            self._update_filled_indices()
        return result

    def fill_up_truth_from_root(self, files: Any, *args: Any, **kwargs: Any) -> None:
        """Replace truth bins by a fuller truth sample read from ROOT files.

        As :meth:`fill_up_truth_from_csv_file`, with the events read by
        :meth:`remu.binning.Binning.fill_from_root` (same arguments; not lazy).
        """
        if kwargs.get("compute", True) is not True:
            msg = "fill_up_truth_from_root fills now: compute=False is not supported"
            raise TypeError(msg)
        new_truth = deepcopy(self.truth_binning)
        new_truth.reset()
        new_truth.fill_from_root(files, *args, **kwargs)
        self._replace_smaller_truth(new_truth)

    def _fix_rounding_errors(self) -> None:
        """Check consistency; lift truth values up to the reconstructed total if rounding."""
        truth = self.truth_binning.get_values_as_ndarray()
        resp = self.response_binning.get_values_as_ndarray()
        resp = resp.reshape(resp.size // truth.size, truth.size).sum(axis=0)
        if np.any(truth < 0):
            msg = "Illegal response matrix: Negative true weight!"
            raise IllegalResponseError(msg)
        if np.any(resp < 0):
            msg = "Illegal response matrix: Negative total reconstructed weight!"
            raise IllegalResponseError(msg)
        diff = truth - resp
        if np.any(diff < -1e-9):
            msg = "Illegal response matrix: Higher total reconstructed than true weight!"
            raise IllegalResponseError(msg)
        below = diff < 0
        if np.any(below):
            truth[below] = resp[below]
            self.truth_binning.set_values_from_ndarray(truth)

    def _replace_smaller_truth(self, new_truth: Binning) -> None:
        new_values = new_truth.get_values_as_ndarray()
        new_entries = new_truth.get_entries_as_ndarray()
        new_sumw2 = new_truth.get_sumw2_as_ndarray()
        old_values = self.truth_binning.get_values_as_ndarray()
        old_entries = self.truth_binning.get_entries_as_ndarray()
        old_sumw2 = self.truth_binning.get_sumw2_as_ndarray()

        negative = int(np.count_nonzero(new_values < 0))
        if negative:
            msg = f"Filled-up values are negative in {negative} bins."
            raise IllegalResponseError(msg)
        where = new_values > 0
        diff_v = new_values - old_values
        diff_e = new_entries - old_entries
        n_less = int(np.count_nonzero(where & (diff_v < -1e-9)))
        if n_less:
            warn(
                f"Filled-up values are less than the original filling in {n_less} bins. "
                "This should not happen!",
                RemuWarning,
                stacklevel=3,
            )
        n_less = int(np.count_nonzero(where & (diff_e < 0)))
        if n_less:
            warn(
                f"Filled-up entries are less than the original filling in {n_less} bins. "
                "This should not happen!",
                RemuWarning,
                stacklevel=3,
            )
        where &= (diff_v >= 0) & (diff_e >= 0)
        self.truth_binning.set_values_from_ndarray(np.where(where, new_values, old_values))
        self.truth_binning.set_entries_from_ndarray(np.where(where, new_entries, old_entries))
        self.truth_binning.set_sumw2_from_ndarray(np.where(where, new_sumw2, old_sumw2))
        self._fix_rounding_errors()
        self._update_filled_indices()

    def reset(self) -> None:
        """Set every histogram (values, entries, sumw2) back to zero.

        ``nuisance_indices`` and ``impossible_indices`` are kept.
        """
        self.truth_binning.reset()
        self.reco_binning.reset()
        self.response_binning.reset()
        self._update_filled_indices()

    # ------------------------------------------------------------ raw accessors
    # A getter and a setter for each data array of each histogram, made from the table
    # of data arrays (see _array_getter and _array_setter).

    @staticmethod
    def _checked(arr: ArrayLike, size: int, what: str, *, counts: bool = False) -> NDArray[Any]:
        a = np.asarray(arr)
        if a.size != size:
            msg = f"{what} needs {size} elements; got {a.size} (shape {a.shape})"
            raise InputError(msg)
        if counts and np.any(a < 0):
            msg = f"{what}: entries must not be negative; got minimum {a.min()}"
            raise InputError(msg)
        return a

    get_truth_values_as_ndarray = _array_getter("truth", "values")
    get_truth_entries_as_ndarray = _array_getter("truth", "entries")
    get_truth_sumw2_as_ndarray = _array_getter("truth", "sumw2")
    get_reco_values_as_ndarray = _array_getter("reco", "values")
    get_reco_entries_as_ndarray = _array_getter("reco", "entries")
    get_reco_sumw2_as_ndarray = _array_getter("reco", "sumw2")
    get_response_values_as_ndarray = _array_getter("response", "values")
    get_response_entries_as_ndarray = _array_getter("response", "entries")
    get_response_sumw2_as_ndarray = _array_getter("response", "sumw2")

    set_truth_values_from_ndarray = _array_setter("truth", "values")
    set_truth_entries_from_ndarray = _array_setter("truth", "entries")
    set_truth_sumw2_from_ndarray = _array_setter("truth", "sumw2")
    set_reco_values_from_ndarray = _array_setter("reco", "values")
    set_reco_entries_from_ndarray = _array_setter("reco", "entries")
    set_reco_sumw2_from_ndarray = _array_setter("reco", "sumw2")
    set_response_values_from_ndarray = _array_setter("response", "values")
    set_response_entries_from_ndarray = _array_setter("response", "entries")
    set_response_sumw2_from_ndarray = _array_setter("response", "sumw2")

    # --------------------------------------------------------- raw matrix

    @staticmethod
    def _normalize_matrix(M: ArrayLike) -> NDArray[np.float64]:
        """Scale columns (axis -2 sums) above 1 down to 1; other columns unchanged."""
        return posterior.normalize_matrix(M)

    def _columns(self, truth_indices: Any) -> Any:
        if truth_indices is None:
            return slice(None)
        return _check_index_range(truth_indices, self.truth_binning.data_size, "truth_indices")

    def get_response_matrix_as_ndarray(
        self, shape: int | Sequence[int] | None = None, truth_indices: ArrayLike | None = None
    ) -> NDArray[np.float64]:
        """Plain ratio estimate ``response[i, j] / truth[j]`` (no priors).

        Columns whose sum exceeds 1 are scaled down to 1; empty truth bins give
        zero columns. Nuisance and impossible indices are ignored.

        Parameters
        ----------
        shape : int or tuple of int, optional
            Reshape the result (C order); default ``(N_reco, n_t)``.
        truth_indices : sequence of int, optional
            Select truth columns; default all.

        Returns
        -------
        ndarray
        """
        cols = self._columns(truth_indices)
        M = self.get_response_values_as_ndarray(shape=self._shape)[:, cols]
        N = self.get_truth_values_as_ndarray()[cols]
        M = M / np.where(N > 0, N, 1.0)
        M = self._normalize_matrix(M)
        if shape is not None:
            M = M.reshape(shape)
        return M

    # ---------------------------------------------------------- Bayesian model

    def _get_stat_error_parameters(
        self,
        expected_weight: float = 1.0,
        nuisance_indices: Iterable[int] | None = None,
        impossible_indices: Iterable[int] | None = None,
        truth_indices: ArrayLike | None = None,
    ) -> posterior.StatParameters:
        """Posterior parameters ``(beta1, beta2, alpha, mu, sigma)`` (see the module docs)."""
        n_reco, n_truth = self._shape
        if nuisance_indices is None:
            nuisance_indices = self.nuisance_indices
        if impossible_indices is None:
            impossible_indices = self.impossible_indices
        if not expected_weight > 0:
            msg = f"expected_weight must be positive; got {expected_weight!r}"
            raise InputError(msg)
        nuisance = _check_index_range(list(nuisance_indices), n_truth, "nuisance_indices")
        impossible = _check_index_range(list(impossible_indices), n_reco, "impossible_indices")
        cols = self._columns(truth_indices)
        if truth_indices is not None:
            # Nuisance bins become column positions; assumes sorted, non-negative
            # truth_indices (as the reference does).
            if cols.size:
                pos = np.searchsorted(cols, nuisance)
                inside = pos < cols.size
                pos = pos[inside]
                nuisance = pos[cols[pos] == nuisance[inside]]
            else:
                nuisance = np.zeros(0, dtype=np.intp)
        shape = self._shape
        return posterior.stat_error_parameters(
            self.get_response_entries_as_ndarray(shape=shape)[:, cols],
            self.get_truth_entries_as_ndarray()[cols],
            self.get_response_values_as_ndarray(shape=shape)[:, cols],
            self.get_truth_values_as_ndarray()[cols],
            self.get_response_sumw2_as_ndarray(shape=shape)[:, cols],
            self.get_truth_sumw2_as_ndarray()[cols],
            n_vars=len(self.reco_binning.phasespace),
            impossible_indices=impossible,
            nuisance_columns=nuisance,
            expected_weight=expected_weight,
        )

    def get_mean_response_matrix_as_ndarray(
        self,
        shape: int | Sequence[int] | None = None,
        *,
        expected_weight: float = 1.0,
        nuisance_indices: Iterable[int] | None = None,
        impossible_indices: Iterable[int] | None = None,
        truth_indices: ArrayLike | None = None,
    ) -> NDArray[np.float64]:
        """Posterior mean of the response matrix.

        ``eff_j * p_ij * m_ij`` with the Beta mean of the efficiency, the
        Dirichlet mean of the smearing and the ratio of mean weights; columns
        summing to more than 1 are scaled down.

        Parameters
        ----------
        shape : int or tuple of int, optional
            Reshape the result; default ``(N_reco, n_t)``.
        expected_weight : float
            Weight assumed for cells without events.
        nuisance_indices, impossible_indices : list of int, optional
            Override the matrix's own lists.
        truth_indices : sequence of int, optional
            Select (sorted) truth columns.

        Returns
        -------
        ndarray

        Examples
        --------
        An empty matrix: efficiency 1/2, smearing uniform over the 3 reco bins.

        >>> from remu import binning, migration
        >>> r = migration.ResponseMatrix(binning.LinearBinning("r", [0, 1, 2, 3]),
        ...                              binning.LinearBinning("t", [0, 1]))
        >>> r.get_mean_response_matrix_as_ndarray()
        array([[0.16666667],
               [0.16666667],
               [0.16666667]])
        """
        params = self._get_stat_error_parameters(
            expected_weight, nuisance_indices, impossible_indices, truth_indices
        )
        M = posterior.mean_response_matrix(params)
        return M if shape is None else M.reshape(shape)

    def get_statistical_variance_as_ndarray(
        self,
        shape: int | Sequence[int] | None = None,
        *,
        expected_weight: float = 1.0,
        nuisance_indices: Iterable[int] | None = None,
        impossible_indices: Iterable[int] | None = None,
        truth_indices: ArrayLike | None = None,
    ) -> NDArray[np.float64]:
        """Element-wise posterior variance of the response matrix.

        Parameters are those of :meth:`get_mean_response_matrix_as_ndarray`.

        Returns
        -------
        ndarray
            Default shape ``(N_reco, n_t)``; correlations are ignored.
        """
        params = self._get_stat_error_parameters(
            expected_weight, nuisance_indices, impossible_indices, truth_indices
        )
        V = posterior.statistical_variance(params)
        return V if shape is None else V.reshape(shape)

    def get_in_bin_variation_as_ndarray(
        self,
        shape: int | Sequence[int] | None = None,
        truth_indices: ArrayLike | None = None,
        normalize: bool = True,
        **kwargs: Any,
    ) -> NDArray[np.float64]:
        """How much the response changes towards the neighbouring truth bins.

        Element ``[i, j]`` is the largest ``|R[i, j] - R[i, k]|`` over the truth
        bins ``k`` adjacent to ``j``; with ``normalize`` it is divided by
        ``sqrt(V[i, j] + V[i, k])`` (statistical variances), so values around 1
        are compatible with statistics.

        Parameters
        ----------
        shape : int or tuple of int, optional
            Reshape the result; default ``(N_reco, n_t)``.
        truth_indices : sequence of int, optional
            Columns to return (computed on the full matrix first).
        normalize : bool
            Divide by the statistical standard deviation of the difference.
        **kwargs
            ``expected_weight``, ``nuisance_indices``, ``impossible_indices``.

        Returns
        -------
        ndarray

        Raises
        ------
        ValueError
            If a truth bin has no adjacent bins.
        """
        R = self.get_mean_response_matrix_as_ndarray(**kwargs)
        adj = self.truth_binning.get_adjacent_data_indices()
        lengths = np.array([len(a) for a in adj], dtype=np.intp)
        if np.any(lengths == 0):
            lonely = np.flatnonzero(lengths == 0).tolist()
            msg = (
                "zero-size array to reduction operation maximum which has no identity: "
                f"truth bins {lonely} have no adjacent bins"
            )
            raise ValueError(msg)
        own = np.repeat(np.arange(len(adj)), lengths)
        other = np.concatenate([np.asarray(a, dtype=np.intp) for a in adj])
        with np.errstate(under="ignore"):
            d = (R[:, own] - R[:, other]) ** 2
            if normalize:
                V = self.get_statistical_variance_as_ndarray(**kwargs)
                d /= V[:, own] + V[:, other]
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        result = np.sqrt(np.maximum.reduceat(d, starts, axis=1))
        if truth_indices is not None:
            result = result[:, self._columns(truth_indices)]
        if shape is not None:
            result = result.reshape(shape)
        return result

    @staticmethod
    def _dirichlet(
        alpha: ArrayLike, size: int | Sequence[int] | None = None, *, rng: RNGLike = None
    ) -> NDArray[np.float64]:
        """Dirichlet draws that survive tiny parameters such as 1e-50."""
        return posterior.draw_dirichlet(alpha, size, as_generator(rng))

    def generate_random_response_matrices(
        self,
        size: int | Sequence[int] | None = None,
        shape: int | Sequence[int] | None = None,
        *,
        expected_weight: float = 1.0,
        nuisance_indices: Iterable[int] | None = None,
        impossible_indices: Iterable[int] | None = None,
        truth_indices: ArrayLike | None = None,
        rng: RNGLike = None,
        progress: ProgressLike = False,
    ) -> NDArray[np.float64]:
        """Draw response matrices from the posterior (all toys at once).

        Efficiencies are Beta, smearings Dirichlet and mean weights Gaussian
        distributed (see :meth:`get_mean_response_matrix_as_ndarray`).

        Parameters
        ----------
        size : None, int or tuple of int
            Toy dimensions.
        shape : int or tuple of int, optional
            Shape of each matrix; default ``(N_reco, n_t)``.
        expected_weight, nuisance_indices, impossible_indices, truth_indices
            As for :meth:`get_mean_response_matrix_as_ndarray`.
        rng : None, int, Generator, optional
            Source of randomness; ``None`` seeds from NumPy's global state, so
            ``np.random.seed`` makes the draw reproducible.
        progress : bool or dict
            ``True`` shows a tqdm bar (``pip install 'remu[progress]'``) advancing
            by the toys of each batch (batches of about 32 MB); a dict passes
            options to tqdm. The draws do not depend on it.

        Returns
        -------
        ndarray, shape size + shape

        Examples
        --------
        >>> from remu import binning, migration
        >>> r = migration.ResponseMatrix(binning.LinearBinning("r", [0, 1, 2, 3]),
        ...                              binning.LinearBinning("t", [0, 1, 2]))
        >>> r.generate_random_response_matrices(size=(2, 3), rng=1).shape
        (2, 3, 3, 2)
        >>> r.generate_random_response_matrices(5, shape=6, rng=1).shape
        (5, 6)
        """
        params = self._get_stat_error_parameters(
            expected_weight, nuisance_indices, impossible_indices, truth_indices
        )
        toys = posterior.draw_response_matrices(params, size, as_generator(rng), progress=progress)
        if _LOG.isEnabledFor(logging.INFO):
            _LOG.info(
                "drew %d toy response matrices of %d reco x %d truth bins",
                int(np.prod(toys.shape[:-2], dtype=np.int64)),
                *toys.shape[-2:],
            )
        if shape is None:
            return toys
        dims = toys.shape[:-2]
        shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
        return toys.reshape(dims + shape)

    # ------------------------------------------------- combination and output

    def __add__(self, other: ResponseMatrix) -> ResponseMatrix:
        """Matrix filled with the events of both operands (binnings taken from ``self``).

        Each histogram of the result is the bin-by-bin sum of the operands' (a copy of
        ``self``'s binning with summed values, entries and sumw2); everything else
        (nuisance and impossible indices, any other attribute) is a deep copy of
        ``self``'s. As in ReMU, the binnings of ``other`` are not checked against
        those of ``self``. Truth values that rounding left below the reconstructed
        total are lifted to it, and ``filled_truth_indices`` is refreshed.

        Raises
        ------
        remu.errors.IllegalResponseError
            (a ``RuntimeError``) If the sum has more reconstructed than true weight
            in some truth bin beyond rounding, or negative weights.
        """
        if not isinstance(other, ResponseMatrix):
            return NotImplemented
        summed = {name: getattr(self, name) + getattr(other, name) for name in _HISTOGRAMS}
        memo: dict[int, Any] = {}
        total = object.__new__(type(self))
        total.__dict__.update(
            {k: deepcopy(v, memo) for k, v in vars(self).items() if k not in summed}
        )
        total.__dict__.update(summed)
        total._fix_rounding_errors()
        total._update_filled_indices()
        return total

    def clone(self) -> ResponseMatrix:
        """Independent copy: cloned binnings (with data) and copied index lists."""
        return ResponseMatrix(
            self.reco_binning.clone(),
            self.truth_binning.clone(),
            nuisance_indices=deepcopy(self.nuisance_indices),
            impossible_indices=deepcopy(self.impossible_indices),
            response_binning=self.response_binning.clone(),
        )

    def export(
        self,
        filename: str | os.PathLike[str] | IO[bytes],
        compress: bool = False,
        nstat: int | None = None,
        sparse: bool = True,
        *,
        rng: RNGLike = None,
        progress: ProgressLike = False,
    ) -> None:
        """Write the matrix as an ``.npz`` file for ``likelihood.ResponseMatrixPredictor``.

        Parameters
        ----------
        filename : path-like or binary file object
            Written atomically when a path (``.npz`` appended if missing).
        compress : bool
            Use :func:`numpy.savez_compressed`.
        nstat : int, optional
            ``None``: store the posterior mean matrix; ``k``: store ``k`` random
            matrices.
        sparse : bool
            Store only truth bins with entries (``sparse_indices``, ``is_sparse``).
        rng : None, int, Generator, optional
            Randomness for ``nstat`` draws.
        progress : bool or dict
            A tqdm bar over the ``nstat`` draws, as for
            :meth:`generate_random_response_matrices`.

        Examples
        --------
        >>> import io, numpy as np
        >>> from remu import binning, migration
        >>> r = migration.ResponseMatrix(binning.LinearBinning("r", [0, 1, 2]),
        ...                              binning.LinearBinning("t", [0, 1, 2]))
        >>> r.fill({"r": 0.5, "t": 1.5})
        >>> buf = io.BytesIO(); r.export(buf); _ = buf.seek(0)
        >>> with np.load(buf) as f:
        ...     sorted(f.files), f["matrices"].shape, f["sparse_indices"]
        (['is_sparse', 'matrices', 'sparse_indices', 'truth_entries'], (1, 2, 1), array([1]))
        """
        if nstat is None:
            matrices = self.get_mean_response_matrix_as_ndarray()[np.newaxis]
        else:
            matrices = self.generate_random_response_matrices(
                size=nstat, rng=rng, progress=progress
            )
        truth_entries = self.get_truth_entries_as_ndarray()
        sparse_indices = None
        if sparse:
            sparse_indices = np.flatnonzero(truth_entries)
            matrices = matrices[..., sparse_indices]
        write_response_npz(
            filename,
            matrices=matrices,
            truth_entries=truth_entries,
            sparse_indices=sparse_indices,
            compress=compress,
        )

    # ------------------------------------------------- scikit-hep and notebooks

    def to_hist(
        self,
        content: str = "mean",
        *,
        expected_weight: float = 1.0,
        nuisance_indices: Iterable[int] | None = None,
        impossible_indices: Iterable[int] | None = None,
    ) -> Any:
        """Convert to a 2-D ``hist.Hist``, reco × truth (``pip install 'remu[hist]'``).

        Element ``[i, j]`` is reco data index ``i``, truth data index ``j``, as in
        :meth:`get_mean_response_matrix_as_ndarray`; the axes are named ``"reco"`` and
        ``"truth"``. A :class:`~remu.binning.LinearBinning` with finite edges and no
        subbinnings gives a ``Variable`` axis with its edges; any other binning
        (several variables, nested or generic binnings, open-ended bins) gives a
        plain ``Integer`` axis of its data indices ``0 .. data_size - 1``, without
        flow bins, so that every element is plotted and written to ROOT.

        Parameters
        ----------
        content : {"mean", "values", "entries"}
            ``"mean"``: the posterior mean response matrix with its statistical
            variance (``Weight`` storage); ``"values"``: the filled response
            histogram, sums of weights and of squared weights (``Weight``);
            ``"entries"``: its numbers of events (``Int64``).
        expected_weight, nuisance_indices, impossible_indices
            Options of the mean matrix (``content="mean"`` only), as in
            :meth:`get_mean_response_matrix_as_ndarray`.

        Returns
        -------
        hist.Hist

        Raises
        ------
        ValueError
            For an unknown `content`.
        ImportError
            If hist is not installed.

        Examples
        --------
        >>> from remu import binning, migration
        >>> r = migration.ResponseMatrix(binning.LinearBinning("x", [0, 1, 2, 3]),
        ...                              binning.LinearBinning("t", [0, 1, 2]))
        >>> r.fill({"x": [0.5, 1.5, 2.5], "t": [0.5, 0.6, 1.5]})
        >>> h = r.to_hist("entries")
        >>> h.axes.name, h.values().tolist()
        (('reco', 'truth'), [[1, 0], [1, 0], [0, 1]])
        >>> r.to_hist().values().shape
        (3, 2)
        """
        from remu._interop.hist import response_to_hist

        return response_to_hist(
            self,
            content,
            expected_weight=expected_weight,
            nuisance_indices=nuisance_indices,
            impossible_indices=impossible_indices,
        )

    def __repr__(self) -> str:
        """One line: both binnings, the filled events and the special indices."""
        from remu._notebook import response_repr

        return response_repr(self)

    def _repr_html_(self) -> str:
        """Summarise the matrix in HTML for notebooks: totals, special indices and both binnings."""
        from remu._notebook import response_html

        return response_html(self)
