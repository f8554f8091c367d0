"""Filling a response matrix: truth, reco and response histograms from one conversion.

The events are converted to 1-D float columns once, the truth and the reco data
index of every event are looked up once, and the response index follows from
the two when the response binning is the usual product ``[reco, truth]``: data
index ``reco * n_truth + truth`` (``CartesianProductBinning`` numbers its bins in
C order with the last constituent fastest). Any other response binning looks its
events up itself, from the same converted columns.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from remu._binning.cartesian import CartesianProductBinning
from remu._binning.events import Columns, as_columns
from remu._binning.fill import CHUNK_SIZE, FillPlan, data_index_chunks
from remu._logging import get_logger
from remu._progress import ProgressLike
from remu._sources.detect import uses_dask

if TYPE_CHECKING:
    from remu._binning.binning import Binning

    from .response import ResponseMatrix

__all__ = ["ResponsePlan", "fill_matrix", "response_from_parts"]

_LOG = get_logger("migration")


def response_from_parts(response: Binning, reco: Binning, truth: Binning) -> bool:
    """Whether the response data index is ``reco_index * truth.data_size + truth_index``.

    True for an exact ``CartesianProductBinning`` of a copy of the reco and a copy
    of the truth binning (the default response binning), without subbinnings.
    """
    return (
        type(response) is CartesianProductBinning
        and not response.subbinnings
        and len(response.binnings) == 2
        and response.binnings[0] == reco
        and response.binnings[1] == truth
    )


def _combine(reco: np.ndarray, truth: np.ndarray, n_truth: int) -> np.ndarray:
    both = reco * n_truth
    both += truth
    both[(reco < 0) | (truth < 0)] = -1
    return both


class ResponsePlan(FillPlan):
    """The truth, reco and response histograms of a response matrix, filled together.

    Parameters
    ----------
    truth, reco, response : Binning
        The three histograms (in this order also their ``raise_error`` checks).
    matrix : ResponseMatrix, optional
        Refreshed (``filled_truth_indices``) after every fill.
    from_parts : bool, optional
        Whether the response index follows from the reco and truth indices
        (default: :func:`response_from_parts`).
    """

    def __init__(
        self,
        truth: Binning,
        reco: Binning,
        response: Binning,
        matrix: ResponseMatrix | None = None,
        from_parts: bool | None = None,
    ) -> None:
        self.truth = truth
        self.reco = reco
        self.response = response
        self.matrix = matrix
        self.special_indices: tuple[list[int], list[int]] = ([], [])
        if matrix is not None:
            self.special_indices = (
                list(matrix.nuisance_indices),
                list(matrix.impossible_indices),
            )
        self.from_parts = (
            response_from_parts(response, reco, truth) if from_parts is None else from_parts
        )

    @classmethod
    def of(cls, matrix: ResponseMatrix) -> ResponsePlan:
        """Make the plan that fills ``matrix`` in place."""
        return cls(matrix.truth_binning, matrix.reco_binning, matrix.response_binning, matrix)

    log_area = "migration"

    def histograms(self) -> list[Binning]:
        return [self.truth, self.reco, self.response]

    def labels(self) -> list[str]:
        return ["truth binning", "reco binning", "response binning"]

    def required_variables(self) -> set[str] | None:
        names: set[str] = set()
        for hist in (self.truth, self.reco) if self.from_parts else self.histograms():
            more = hist._required_variables()
            if more is None:
                return None
            names |= more
        return names

    def index_chunks(self, cols: Columns, chunk_size: int = CHUNK_SIZE) -> list[list[np.ndarray]]:
        truth = data_index_chunks(self.truth, cols, chunk_size)
        reco = data_index_chunks(self.reco, cols, chunk_size)
        if self.from_parts:
            n_truth = self.truth.data_size
            response = [_combine(r, t, n_truth) for r, t in zip(reco, truth, strict=True)]
        else:
            response = data_index_chunks(self.response, cols, chunk_size)
        return [truth, reco, response]

    def structure(self) -> ResponsePlan:
        plan = ResponsePlan(
            self.truth.clone(dummy=True),
            self.reco.clone(dummy=True),
            self.response.clone(dummy=True),
            from_parts=self.from_parts,
        )
        plan.special_indices = self.special_indices
        return plan

    def after_fill(self) -> None:
        if self.matrix is not None:
            self.matrix._update_filled_indices()

    def filled_copy(self, partial: Any) -> ResponseMatrix:
        from .response import ResponseMatrix

        hists = [h.clone(dummy=False) for h in self.histograms()]
        for h in hists:
            h.reset()
        nuisance, impossible = self.special_indices
        matrix = ResponseMatrix(
            hists[1],
            hists[0],
            nuisance_indices=list(nuisance),
            impossible_indices=list(impossible),
            response_binning=hists[2],
        )
        ResponsePlan.of(matrix).add_partial(partial, raise_error=False)
        return matrix


def fill_matrix(
    matrix: ResponseMatrix,
    event: Any,
    weight: Any = 1,
    raise_error: bool = False,
    rename: Any = None,
    *,
    compute: bool = True,
    progress: ProgressLike = False,
) -> Any:
    """Fill a response matrix: the implementation of :meth:`ResponseMatrix.fill`."""
    plan = ResponsePlan.of(matrix)
    if uses_dask(event, weight):
        from remu._sources.dask_fill import fill_from_dask

        return fill_from_dask(
            plan,
            event,
            weight=weight,
            raise_error=raise_error,
            rename=rename,
            compute=compute,
            progress=progress,
        )
    if not compute:
        msg = "compute=False needs a Dask collection of events (a lazy fill)"
        raise TypeError(msg)
    matrix._check_event_variables(event, rename)
    cols = as_columns(event, rename)
    if cols is None:
        matrix._update_filled_indices()
        return None
    debug = _LOG.isEnabledFor(logging.DEBUG)
    plan.fill_columns(cols, weight, raise_error, count=debug)
    if debug:
        plan.report("fill", bulk=False)
    return None
