"""Merge sparsely populated truth bins with a neighbour (``matrix_utils.improve_stats``).

A truth bin with few events has a poorly known response. Merging it with a
neighbour trades resolution for statistics; the neighbour chosen is the one
whose response is most similar (smallest Mahalanobis distance between the two
bins' responses), so that the merge changes the physics least.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np
from numpy.typing import NDArray

from remu._rng import RNGLike, as_generator
from remu.errors import BinMergeError, IndexOutOfRangeError, NoMergeNeighbourError

from .quality import mahalanobis_distance

if TYPE_CHECKING:
    from remu._binning.binning import Binning
    from remu._binning.linear import LinearBinning
    from remu._binning.rectilinear import RectilinearBinning

    from .response import ResponseMatrix

__all__ = ["Suggestion", "improve_stats", "merge_suggestions"]

#: A function merging bins along axis 0 of an array (trailing axes carried along).
MergeFunction = Callable[[NDArray[Any]], NDArray[Any]]


class Suggestion(TypedDict):
    """One way to merge a bin with a neighbour (a plain dict, as in ReMU).

    ``first_indices[k]`` is merged with ``second_indices[k]`` (data indices of
    the original binning); ``binning`` is the merged binning with its contents
    summed; ``function`` performs the same merge along axis 0 of an array.
    """

    first_indices: list[int]
    second_indices: list[int]
    binning: Binning
    function: MergeFunction


def _linear_suggestions(binning: LinearBinning, b: int) -> list[Suggestion]:
    """Merge bin ``b`` with the bin below, or with the bin above."""
    out: list[Suggestion] = []
    if b > 0:

        def merge_down(arr: NDArray[Any], b: int = b) -> NDArray[Any]:
            res = np.delete(arr, b, axis=0)
            res[b - 1] += arr[b]
            return res

        out.append(
            {
                "first_indices": [b - 1],
                "second_indices": [b],
                "binning": binning.remove_bin_edges([b]),
                "function": merge_down,
            }
        )
    if b < binning.nbins - 1:

        def merge_up(arr: NDArray[Any], b: int = b) -> NDArray[Any]:
            res = np.delete(arr, b, axis=0)
            res[b] += arr[b]
            return res

        out.append(
            {
                "first_indices": [b],
                "second_indices": [b + 1],
                "binning": binning.remove_bin_edges([b + 1]),
                "function": merge_up,
            }
        )
    return out


def _slab_merge(shape: tuple[int, ...], axis: int, removed: int, target: int) -> MergeFunction:
    """Merge slab ``removed`` along ``axis`` into the slab that ends up at ``target``."""

    def merge(arr: NDArray[Any]) -> NDArray[Any]:
        rest = arr.shape[1:]
        grid = arr.reshape(shape + rest)
        res = np.delete(grid, removed, axis=axis)
        target_slab = (slice(None),) * axis + (target,)
        res[target_slab] += np.take(grid, removed, axis=axis)
        return res.reshape((-1, *rest))

    return merge


def _rectilinear_suggestions(binning: RectilinearBinning, b: int) -> list[Suggestion]:
    """Merge the slab of bin ``b`` with a neighbouring slab, variable by variable.

    Removing a bin edge of one variable merges two whole slabs (all bins that
    share that variable's index), so every bin of the slab takes part.
    """
    shape = tuple(binning.bins_shape)
    numbers = np.arange(binning.nbins).reshape(shape)
    out: list[Suggestion] = []

    def slab(j: int, v: int) -> list[int]:
        return [int(i) for i in np.take(numbers, j, axis=v).ravel()]

    index = binning.get_bin_index_tuple(b)
    position = tuple(j for j in index if j is not None)
    if len(position) != len(index):
        msg = f"bin {b} is outside the {binning.nbins} bins of {binning!r}"
        raise IndexError(msg)
    for v, (j, n) in enumerate(zip(position, shape, strict=True)):
        name = binning.variables[v]
        if j > 0:
            out.append(
                {
                    "first_indices": slab(j - 1, v),
                    "second_indices": slab(j, v),
                    "binning": binning.remove_bin_edges({name: [j]}),
                    "function": _slab_merge(shape, v, removed=j, target=j - 1),
                }
            )
        if j < n - 1:
            out.append(
                {
                    "first_indices": slab(j, v),
                    "second_indices": slab(j + 1, v),
                    "binning": binning.remove_bin_edges({name: [j + 1]}),
                    "function": _slab_merge(shape, v, removed=j, target=j),
                }
            )
    return out


def _wrap_subbinning(binning: Binning, i_bin: int, sub: Suggestion) -> Suggestion:
    """Lift a suggestion for the sub-binning at bin ``i_bin`` to its parent ``binning``."""
    offset = binning.get_bin_data_index(i_bin)
    assert offset is not None  # an int bin index has a data index
    size = binning.subbinnings[i_bin].data_size
    merged = binning.marginalize_subbinnings([i_bin])
    new_sub = sub["binning"]
    # a sub-binning merged down to a single bin is no sub-binning any more
    keep_sub = new_sub.data_size != 1
    new_binning = merged.insert_subbinning(i_bin, new_sub.clone()) if keep_sub else merged
    sub_function = sub["function"]

    def function(arr: NDArray[Any]) -> NDArray[Any]:
        # Only this bin's sub-binning is marginalised (ReMU marginalises all of
        # them, which breaks binnings with several sub-binnings).
        flat = binning.marginalize_subbinnings_on_ndarray(arr, [i_bin])
        if not keep_sub:
            return flat
        inner = sub_function(arr[offset : offset + size])
        return merged.insert_subbinning_on_ndarray(flat, i_bin, inner)

    return {
        "first_indices": [offset + i for i in sub["first_indices"]],
        "second_indices": [offset + i for i in sub["second_indices"]],
        "binning": new_binning,
        "function": function,
    }


def _checked_data_index(binning: Binning, data_index: int | None) -> int:
    """Return the data index to merge: the given one (checked) or the first with fewest entries."""
    if data_index is None:
        return int(np.argmin(binning.get_entries_as_ndarray()))
    index = operator.index(data_index)  # TypeError for non-integers
    size = binning.data_size
    if not 0 <= index < size:
        msg = f"data_index {data_index!r} is out of range for a binning of {size} data bins"
        raise IndexOutOfRangeError(msg)
    return index


def merge_suggestions(binning: Binning, data_index: int | None = None) -> list[Suggestion]:
    """Ways to merge the bin at ``data_index`` (default: fewest entries) with a neighbour.

    Parameters
    ----------
    binning : Binning
        A ``LinearBinning`` or ``RectilinearBinning``, possibly with
        sub-binnings (the merge then happens inside the sub-binning).
    data_index : int, optional
        Data index of the bin to merge; default ``argmin`` of the entries.

    Returns
    -------
    list of Suggestion
        Dicts with ``first_indices``, ``second_indices`` (data indices merged
        pairwise), ``binning`` (the merged binning, contents summed) and
        ``function`` (performs the same merge along axis 0 of an array). Empty
        for a binning with a single bin.

    Raises
    ------
    remu.errors.BinMergeError
        For binnings of other types, or when the bin is a plain bin of a
        binning that has sub-binnings elsewhere (a :class:`RuntimeError`).
    remu.errors.IndexOutOfRangeError
        (an ``IndexError`` and a ``ValueError``) If ``data_index`` is outside
        the binning.

    Examples
    --------
    >>> from remu import binning
    >>> b = binning.LinearBinning("x", [0, 1, 2, 3])
    >>> b.set_entries_from_ndarray([5, 1, 7])
    >>> [(s["first_indices"], s["second_indices"]) for s in merge_suggestions(b)]
    [([0], [1]), ([1], [2])]
    >>> merge_suggestions(b)[0]["binning"].bin_edges.tolist()
    [0.0, 2.0, 3.0]
    """
    from remu._binning.linear import LinearBinning
    from remu._binning.rectilinear import RectilinearBinning

    data_index = _checked_data_index(binning, data_index)
    i_bin = binning.get_data_bin_index(data_index)
    assert i_bin is not None  # an int data index lies in a bin
    if i_bin in binning.subbinnings:
        sub_binning = binning.subbinnings[i_bin]
        offset = binning.get_bin_data_index(i_bin)
        assert offset is not None
        return [
            _wrap_subbinning(binning, i_bin, s)
            for s in merge_suggestions(sub_binning, data_index - offset)
        ]
    if binning.subbinnings:
        msg = f"Lowest statistics entry is in bin {i_bin} of Binning with subbinnings: {binning!r}"
        raise BinMergeError(msg)
    if isinstance(binning, LinearBinning):
        return _linear_suggestions(binning, i_bin)
    if isinstance(binning, RectilinearBinning):
        return _rectilinear_suggestions(binning, i_bin)
    msg = f"Not able to suggest bin merging for Binning: {binning!r}"
    raise BinMergeError(msg)


def _partial_matrix(response_matrix: ResponseMatrix, indices: list[int]) -> ResponseMatrix:
    """Return a matrix holding only the truth columns ``indices`` of ``response_matrix``."""
    from remu._binning.linear import LinearBinning

    from .response import ResponseMatrix

    reco = response_matrix.reco_binning.clone()
    reco.reset()
    truth = LinearBinning("__", np.arange(len(indices) + 1))
    part = ResponseMatrix(reco, truth)
    shape = (response_matrix.reco_binning.data_size, response_matrix.truth_binning.data_size)
    for quantity in ("values", "entries", "sumw2"):
        get_truth = getattr(response_matrix, f"get_truth_{quantity}_as_ndarray")
        get_resp = getattr(response_matrix, f"get_response_{quantity}_as_ndarray")
        columns = get_resp(shape=shape)[:, indices]
        getattr(part, f"set_truth_{quantity}_from_ndarray")(get_truth(indices=indices))
        getattr(part, f"set_response_{quantity}_from_ndarray")(columns)
        getattr(part, f"set_reco_{quantity}_from_ndarray")(columns.sum(axis=1))
    return part


def improve_stats(
    response_matrix: ResponseMatrix, data_index: int | None = None, *, rng: RNGLike = None
) -> ResponseMatrix:
    """Merge one truth bin with the neighbour whose response is most similar.

    Every way of merging the bin (lower or upper neighbour, along each truth
    variable) is scored by the summed Mahalanobis distance between the
    responses of the bins that would be merged; the smallest score wins. The
    scores are random (posterior throws), so the choice may differ between
    runs unless ``rng`` (or NumPy's global seed) is fixed.

    Parameters
    ----------
    response_matrix : ResponseMatrix
        Not modified.
    data_index : int, optional
        Truth data index of the bin to merge; default the (first) bin with the
        fewest truth entries.
    rng : None, int, Generator, optional
        Randomness of the Mahalanobis distances that choose the direction
        (``None``: NumPy's global seed).

    Returns
    -------
    ResponseMatrix
        New matrix with the merged truth binning; totals are conserved and
        ``nuisance_indices``/``impossible_indices`` are empty (not carried over).

    Raises
    ------
    remu.errors.BinMergeError
        If no merge can be suggested for the truth binning type (a
        :class:`RuntimeError`).
    remu.errors.NoMergeNeighbourError
        If the truth binning has a single bin (a :class:`BinMergeError` and a
        :class:`ValueError`).
    remu.errors.IndexOutOfRangeError
        (an ``IndexError`` and a ``ValueError``) If ``data_index`` is outside
        the truth binning.

    Examples
    --------
    Merge truth bins until each holds at least 10 events:

    >>> import numpy as np
    >>> from remu import binning, matrix_utils, migration
    >>> rm = migration.ResponseMatrix(binning.LinearBinning("r", [0, 1, 2, 3]),
    ...                               binning.LinearBinning("t", [0, 1, 2, 3]))
    >>> t = np.repeat([0.5, 1.5, 2.5], [50, 3, 40])
    >>> rm.fill(np.rec.fromarrays([t, t], names="t,r"))
    >>> while rm.get_truth_entries_as_ndarray().min() < 10:
    ...     rm = matrix_utils.improve_stats(rm, rng=0)
    >>> rm.truth_binning.nbins, int(rm.get_truth_entries_as_ndarray().sum())
    (2, 93)
    """
    from .response import ResponseMatrix

    gen = as_generator(rng)
    suggestions = merge_suggestions(response_matrix.truth_binning, data_index)
    if not suggestions:
        msg = "no neighbouring truth bin to merge with (the binning has a single bin)"
        raise NoMergeNeighbourError(msg)
    scores = [
        mahalanobis_distance(
            _partial_matrix(response_matrix, s["first_indices"]),
            _partial_matrix(response_matrix, s["second_indices"]),
            rng=gen,
        ).sum()
        for s in suggestions
    ]
    choice = suggestions[int(np.argmin(scores))]
    new = ResponseMatrix(response_matrix.reco_binning.clone(), choice["binning"])
    shape = (response_matrix.reco_binning.data_size, response_matrix.truth_binning.data_size)
    for quantity in ("values", "entries", "sumw2"):
        arr = getattr(response_matrix, f"get_response_{quantity}_as_ndarray")(shape=shape)
        merged = choice["function"](arr.T).T
        getattr(new.response_binning, f"set_{quantity}_from_ndarray")(merged)
    return new
