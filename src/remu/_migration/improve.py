"""Merge sparsely populated truth bins with a neighbour (``matrix_utils.improve_stats``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from remu._rng import RNGLike, as_generator

from .quality import mahalanobis_distance

__all__ = ["improve_stats", "merge_suggestions"]

Suggestion = dict[str, Any]


def _linear_suggestions(binning: Any, b: int) -> list[Suggestion]:
    out = []
    if b > 0:

        def merge_down(arr: NDArray, b: int = b) -> NDArray:
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

        def merge_up(arr: NDArray, b: int = b) -> NDArray:
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


def _slab_merge(
    shape: tuple[int, ...], axis: int, removed: int, target: int
) -> Callable[[NDArray], NDArray]:
    """Merge slab ``removed`` into the slab that ends up at position ``target``."""

    def merge(arr: NDArray) -> NDArray:
        rest = arr.shape[1:]
        grid = arr.reshape(shape + rest)
        res = np.delete(grid, removed, axis=axis)
        index = [slice(None)] * res.ndim
        index[axis] = target
        res[tuple(index)] += np.take(grid, removed, axis=axis)
        return res.reshape((-1, *rest))

    return merge


def _rectilinear_suggestions(binning: Any, b: int) -> list[Suggestion]:
    shape = tuple(binning.bins_shape)
    numbers = np.arange(binning.nbins).reshape(shape)
    tup = binning.get_bin_index_tuple(b)
    out = []
    for v, (j, n) in enumerate(zip(tup, shape, strict=True)):
        name = binning.variables[v]
        if j > 0:
            out.append(
                {
                    "first_indices": np.take(numbers, j - 1, axis=v).ravel().tolist(),
                    "second_indices": np.take(numbers, j, axis=v).ravel().tolist(),
                    "binning": binning.remove_bin_edges({name: [j]}),
                    "function": _slab_merge(shape, v, removed=j, target=j - 1),
                }
            )
        if j < n - 1:
            out.append(
                {
                    "first_indices": np.take(numbers, j, axis=v).ravel().tolist(),
                    "second_indices": np.take(numbers, j + 1, axis=v).ravel().tolist(),
                    "binning": binning.remove_bin_edges({name: [j + 1]}),
                    "function": _slab_merge(shape, v, removed=j, target=j),
                }
            )
    return out


def _wrap_subbinning(binning: Any, i_bin: int, sub: Suggestion) -> Suggestion:
    offset = binning.get_bin_data_index(i_bin)
    size = binning.subbinnings[i_bin].data_size
    merged = binning.marginalize_subbinnings([i_bin])
    new_sub = sub["binning"]
    keep_sub = new_sub.data_size != 1
    new_binning = merged.insert_subbinning(i_bin, new_sub.clone()) if keep_sub else merged
    sub_function = sub["function"]

    def function(arr: NDArray) -> NDArray:
        # Only this bin's sub-binning is marginalised (the reference marginalises
        # all of them, which breaks binnings with several sub-binnings).
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


def merge_suggestions(binning: Any, data_index: int | None = None) -> list[Suggestion]:
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
    list of dict
        Each with ``first_indices``, ``second_indices`` (data indices merged
        pairwise), ``binning`` (the merged binning, contents summed) and
        ``function`` (performs the same merge along axis 0 of an array).

    Raises
    ------
    RuntimeError
        For binnings of other types, or when the bin is a plain bin of a
        binning that has sub-binnings elsewhere.
    """
    from remu.binning import LinearBinning, RectilinearBinning

    if data_index is None:
        data_index = int(np.argmin(binning.entries_array))
    i_bin = binning.get_data_bin_index(data_index)
    if i_bin in binning.subbinnings:
        sub_binning = binning.subbinnings[i_bin]
        local = data_index - binning.get_bin_data_index(i_bin)
        return [_wrap_subbinning(binning, i_bin, s) for s in merge_suggestions(sub_binning, local)]
    if binning.subbinnings:
        msg = f"Lowest statistics entry is in bin {i_bin} of Binning with subbinnings: {binning!r}"
        raise RuntimeError(msg)
    if isinstance(binning, LinearBinning):
        return _linear_suggestions(binning, i_bin)
    if isinstance(binning, RectilinearBinning):
        return _rectilinear_suggestions(binning, i_bin)
    msg = f"Not able to suggest bin merging for Binning: {binning!r}"
    raise RuntimeError(msg)


def _partial_matrix(response_matrix: Any, indices: list[int]) -> Any:
    """A matrix holding only the truth columns ``indices`` of ``response_matrix``."""
    from remu.binning import LinearBinning

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
    response_matrix: Any, data_index: int | None = None, *, rng: RNGLike = None
) -> Any:
    """Merge one truth bin with the neighbour whose response is most similar.

    Parameters
    ----------
    response_matrix : ResponseMatrix
        Not modified.
    data_index : int, optional
        Truth data index of the bin to merge; default the (first) bin with the
        fewest truth entries.
    rng : None, int, Generator, optional
        Randomness of the Mahalanobis distances that choose the direction.

    Returns
    -------
    ResponseMatrix
        New matrix with the merged truth binning; totals are conserved and
        ``nuisance_indices``/``impossible_indices`` are empty (not carried over).

    Raises
    ------
    RuntimeError
        If no merge can be suggested for the truth binning type.
    ValueError
        If the bin has no neighbour to merge with.
    """
    from .response import ResponseMatrix

    gen = as_generator(rng)
    suggestions = merge_suggestions(response_matrix.truth_binning, data_index)
    if not suggestions:
        msg = "no neighbouring truth bin to merge with (the binning has a single bin)"
        raise ValueError(msg)
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
