"""Exceptions and warnings raised by remu.

Every exception subclasses the built-in that callers of the reference
implementation already catch, so ``except ValueError`` keeps working. Where the
reference raised one built-in in one case and another elsewhere (or remu raised a
different one before), the class subclasses both.

Warnings are :class:`RemuWarning` (a :class:`UserWarning`): filter them with
``warnings.filterwarnings("ignore", category=remu.errors.RemuWarning)``.

Examples
--------
>>> from remu import errors
>>> issubclass(errors.IndexOutOfRangeError, IndexError), issubclass(
...     errors.IndexOutOfRangeError, ValueError)
(True, True)
"""

from __future__ import annotations

from remu import _facade

__all__ = [
    "BinMergeError",
    "EmptyBuilderError",
    "FileFormatError",
    "FixValuesLengthError",
    "IllegalResponseError",
    "IncompatibleMatricesError",
    "IndexOutOfRangeError",
    "InputError",
    "InsufficientStatisticsError",
    "InvalidEventError",
    "IrregularFieldError",
    "MissingArrayError",
    "MissingFieldError",
    "MissingVariableError",
    "NoMergeNeighbourError",
    "NotAGridError",
    "RemuWarning",
]


class RemuWarning(UserWarning):
    """A warning about questionable, but not invalid, use of remu.

    Issued when remu goes on with a guess that may not be what the caller meant:

    * ``Binning.set_values_from_ndarray`` (and the entries and sumw2 setters) given
      a stack of vectors, e.g. a prediction with one row per systematic variation:
      the first vector is used, as in ReMU;
    * ``ResponseMatrix.fill_up_truth`` (and its CSV and ROOT variants) when the
      fuller truth sample holds *less* than the current filling in some bins: those
      bins keep their current content.

    A :class:`UserWarning`, as the reference's warnings are.
    """


class InputError(ValueError):
    """Input values that cannot be used: wrong shape, length, sign or range."""


class IndexOutOfRangeError(InputError, IndexError):
    """An index (a data index, a list of truth or reco indices) names a bin that does not exist.

    Raised by ``ResponseMatrix`` methods given ``nuisance_indices``,
    ``impossible_indices`` or boolean masks that do not fit the binnings, and by
    ``matrix_utils.improve_stats`` for a ``data_index`` outside the truth binning.
    Both a :class:`ValueError` (bad input) and an :class:`IndexError` (what the
    reference raises for large indices).
    """


class FixValuesLengthError(InputError, IndexError):
    """``fix_values`` that do not have one entry per parameter of the predictor.

    Raised by ``Predictor.fix_parameters`` and ``FixedParameterPredictor``.
    Both a :class:`ValueError` and an :class:`IndexError` (what the reference
    raises, from a boolean index of the wrong length).
    """


class FileFormatError(ValueError):
    """A file (YAML, CSV, ``.npz``) that is malformed or lacks required content."""


class MissingArrayError(FileFormatError, KeyError):
    """An ``.npz`` archive (a response matrix file) lacks an array that is needed.

    The message names the file, the missing key and the arrays that are there.
    Both a :class:`FileFormatError` (a :class:`ValueError`: the file is
    malformed) and a :class:`KeyError` (what the reference raises); ``str()``
    shows the message as written, not the quoted ``repr`` of :class:`KeyError`.
    """

    def __str__(self) -> str:
        if len(self.args) == 1 and isinstance(self.args[0], str):
            return self.args[0]
        return super().__str__()


class MissingVariableError(KeyError):
    """Event data lacks a variable (column, field, branch) that is needed.

    ``str()`` shows the message as written, not the quoted ``repr`` that
    :class:`KeyError` uses by default.
    """

    def __str__(self) -> str:
        if len(self.args) == 1 and isinstance(self.args[0], str):
            return self.args[0]
        return super().__str__()


class MissingFieldError(MissingVariableError, ValueError):
    """A structured array (or CSV file) lacks a field that is needed.

    It is both a :class:`KeyError` (like a missing dict key) and a
    :class:`ValueError` (what NumPy raises for a missing field name).
    """


class InvalidEventError(TypeError, IndexError):
    """Input to ``fill`` that is not a collection of events (e.g. a plain numeric array).

    It subclasses :class:`TypeError` and :class:`IndexError`, the two errors the
    reference raises for lists of numbers and numeric arrays.
    """


class IllegalResponseError(RuntimeError):
    """Response matrix contents that contradict each other.

    For example a truth bin with more reconstructed than true events, which no
    detector can produce: the response would have an efficiency above 1. The
    message names the offending bins. A :class:`RuntimeError`, as in ReMU.
    """


class IncompatibleMatricesError(RuntimeError):
    """Response matrices added to one ``ResponseMatrixArrayBuilder`` that do not fit together.

    Their nuisance indices differ, or a truth bin that is not a nuisance bin is
    filled in some of the matrices only (its efficiency would be undefined in the
    others). A :class:`RuntimeError`, as in ReMU.
    """


class EmptyBuilderError(RuntimeError, TypeError):
    """A ``ResponseMatrixArrayBuilder`` asked for its matrices before any was added.

    Both a :class:`RuntimeError` and a :class:`TypeError` (what the reference
    raises from its empty state).
    """


class InsufficientStatisticsError(RuntimeError):
    """Too few events for the requested statistical statement.

    Raised by ``matrix_utils.compatibility`` when no truth bin holds enough
    reconstructed events to reach ``min_quality``: with so few events the shared
    prior dominates both matrices and a compatibility test says nothing. The
    message gives the threshold and the best bin. A :class:`RuntimeError`, as in
    ReMU.
    """


class BinMergeError(RuntimeError):
    """A truth bin that ``matrix_utils.improve_stats`` cannot merge with a neighbour.

    Raised for binning types without a notion of neighbouring bins, and for a
    plain bin of a binning that has sub-binnings elsewhere (merging it would
    need a sub-binning on one side only). A :class:`RuntimeError`, as in ReMU.
    """


class NoMergeNeighbourError(BinMergeError, ValueError):
    """The truth bin to merge has no neighbour: its binning holds a single bin.

    Both a :class:`BinMergeError` and a :class:`ValueError` (what ReMU raises
    in this case, from ``argmin`` of an empty sequence).
    """


class IrregularFieldError(InputError):
    """An event field that is not one number per event: jagged, option-typed or nested.

    Raised for awkward arrays (and ROOT branches) whose field holds a list per
    event (``var * float32``), values that may be missing (``?float64``), records
    or nested lists; the message names the field. ``fill_from_root(...,
    flatten=[name])`` flattens jagged fields and reads missing values as NaN.
    A :class:`ValueError`, as NumPy raises for ragged sequences.
    """


class NotAGridError(TypeError):
    """A binning whose bins do not form a grid of intervals, so it is no UHI histogram.

    Raised by the ``PlottableHistogram`` methods (``axes``, ``values``, ...) and
    ``to_hist`` of binnings with subbinnings, or of products whose constituents are
    not grids; the message says why and what to do (e.g. ``marginalize_subbinnings()``).
    A :class:`TypeError`: the object does not support the protocol.
    """


_facade.install(__name__)
