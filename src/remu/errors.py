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

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from remu.binning import LinearBinning
    >>> from remu.errors import RemuWarning
    >>> lb = LinearBinning("x", [0, 1, 2])
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     lb.set_values_from_ndarray(np.ones((3, 2)))  # three vectors of two bins
    >>> [w.category.__name__ for w in caught]
    ['RemuWarning']
    >>> with warnings.catch_warnings():
    ...     warnings.filterwarnings("ignore", category=RemuWarning)
    ...     lb.set_values_from_ndarray(np.ones((3, 2)))
    """


class InputError(ValueError):
    """Input values that cannot be used: wrong shape, length, sign or range.

    Examples
    --------
    >>> from remu.likelihood import PoissonData
    >>> try:
    ...     PoissonData([-1, 2])
    ... except ValueError as error:
    ...     print(f"{type(error).__name__}: {error}")
    InputError: Poisson data must be non-negative counts; got -1 at index (0,)
    """


class IndexOutOfRangeError(InputError, IndexError):
    """An index (a data index, a list of truth or reco indices) names a bin that does not exist.

    Raised by ``ResponseMatrix`` methods given ``nuisance_indices``,
    ``impossible_indices`` or boolean masks that do not fit the binnings, and by
    ``matrix_utils.improve_stats`` for a ``data_index`` outside the truth binning.
    Both a :class:`ValueError` (bad input) and an :class:`IndexError` (what the
    reference raises for large indices).

    Examples
    --------
    >>> from remu.binning import LinearBinning
    >>> from remu.migration import ResponseMatrix
    >>> matrix = ResponseMatrix(LinearBinning("reco", [0, 1, 2]), LinearBinning("true", [0, 1, 2]))
    >>> try:
    ...     matrix.get_mean_response_matrix_as_ndarray(truth_indices=[5])
    ... except IndexError as error:
    ...     print(f"{type(error).__name__}: {error}")
    IndexOutOfRangeError: truth_indices out of range for 2 bins: [5]
    """


class FixValuesLengthError(InputError, IndexError):
    """``fix_values`` that do not have one entry per parameter of the predictor.

    Raised by ``Predictor.fix_parameters`` and ``FixedParameterPredictor``.
    Both a :class:`ValueError` and an :class:`IndexError` (what the reference
    raises, from a boolean index of the wrong length).

    Examples
    --------
    >>> from remu.likelihood import TemplatePredictor
    >>> predictor = TemplatePredictor([[1.0, 2.0]])  # one parameter
    >>> try:
    ...     predictor.fix_parameters([1.0, 2.0])
    ... except IndexError as error:
    ...     print(type(error).__name__)
    FixValuesLengthError
    """


class FileFormatError(ValueError):
    """A file (YAML, CSV, ``.npz``) that is malformed or lacks required content.

    Examples
    --------
    >>> import io
    >>> import numpy as np
    >>> from remu.likelihood import ResponseMatrixPredictor
    >>> single_array = io.BytesIO()
    >>> np.save(single_array, np.ones(2))  # an .npy array, not an .npz archive
    >>> _ = single_array.seek(0)
    >>> try:
    ...     ResponseMatrixPredictor(single_array)
    ... except ValueError as error:
    ...     print(type(error).__name__)
    FileFormatError
    """


class MissingArrayError(FileFormatError, KeyError):
    """An ``.npz`` archive (a response matrix file) lacks an array that is needed.

    The message names the file, the missing key and the arrays that are there.
    Both a :class:`FileFormatError` (a :class:`ValueError`: the file is
    malformed) and a :class:`KeyError` (what the reference raises); ``str()``
    shows the message as written, not the quoted ``repr`` of :class:`KeyError`.

    Examples
    --------
    >>> import io
    >>> import numpy as np
    >>> from remu.likelihood import ResponseMatrixPredictor
    >>> archive = io.BytesIO()
    >>> np.savez(archive, weights=np.ones(1))
    >>> _ = archive.seek(0)
    >>> try:
    ...     ResponseMatrixPredictor(archive)
    ... except KeyError as error:
    ...     print(f"{type(error).__name__}: {error}")
    MissingArrayError: '<file object>' has no array 'matrices' (found: weights)
    """

    def __str__(self) -> str:
        """Return the message as written, not the quoted ``repr`` of :class:`KeyError`."""
        if len(self.args) == 1 and isinstance(self.args[0], str):
            return self.args[0]
        return super().__str__()


class MissingVariableError(KeyError):
    """Event data lacks a variable (column, field, branch) that is needed.

    ``str()`` shows the message as written, not the quoted ``repr`` that
    :class:`KeyError` uses by default.

    Examples
    --------
    >>> from remu.binning import LinearBinning
    >>> try:
    ...     LinearBinning("y", [0, 1]).fill({"x": [0.5]})
    ... except KeyError as error:
    ...     print(f"{type(error).__name__}: {error}")
    MissingVariableError: event data has no variable 'y' (available: x)
    """

    def __str__(self) -> str:
        """Return the message as written, not the quoted ``repr`` of :class:`KeyError`."""
        if len(self.args) == 1 and isinstance(self.args[0], str):
            return self.args[0]
        return super().__str__()


class MissingFieldError(MissingVariableError, ValueError):
    """A structured array (or CSV file) lacks a field that is needed.

    It is both a :class:`KeyError` (like a missing dict key) and a
    :class:`ValueError` (what NumPy raises for a missing field name).

    Examples
    --------
    >>> import numpy as np
    >>> from remu.binning import LinearBinning
    >>> events = np.zeros(2, dtype=[("x", float)])
    >>> try:
    ...     LinearBinning("y", [0, 1]).fill(events)
    ... except ValueError as error:
    ...     print(f"{type(error).__name__}: {error}")
    MissingFieldError: event data has no variable 'y' (available: x)
    """


class InvalidEventError(TypeError, IndexError):
    """Input to ``fill`` that is not a collection of events (e.g. a plain numeric array).

    It subclasses :class:`TypeError` and :class:`IndexError`, the two errors the
    reference raises for lists of numbers and numeric arrays.

    Examples
    --------
    >>> import numpy as np
    >>> from remu.binning import LinearBinning
    >>> lb = LinearBinning("x", [0, 1])
    >>> try:
    ...     lb.fill(np.array([0.5, 0.7]))
    ... except TypeError as error:
    ...     print(type(error).__name__)
    InvalidEventError
    >>> lb.fill({"x": np.array([0.5, 0.7])})  # a dict of arrays names the variable
    >>> lb.get_entries_as_ndarray()
    array([2])
    """


class IllegalResponseError(RuntimeError):
    """Response matrix contents that contradict each other.

    For example a truth bin with more reconstructed than true events, which no
    detector can produce: the response would have an efficiency above 1. The
    message names the offending bins. A :class:`RuntimeError`, as in ReMU.

    Examples
    --------
    >>> from remu.binning import LinearBinning
    >>> from remu.migration import ResponseMatrix
    >>> matrix = ResponseMatrix(LinearBinning("reco", [0, 1, 2]), LinearBinning("true", [0, 1, 2]))
    >>> matrix.fill({"true": [0.5], "reco": [0.5]}, weight=-1.0)
    >>> try:
    ...     matrix + matrix
    ... except RuntimeError as error:
    ...     print(f"{type(error).__name__}: {error}")
    IllegalResponseError: Illegal response matrix: Negative true weight!
    """


class IncompatibleMatricesError(RuntimeError):
    """Response matrices added to one ``ResponseMatrixArrayBuilder`` that do not fit together.

    Their nuisance indices differ, or a truth bin that is not a nuisance bin is
    filled in some of the matrices only (its efficiency would be undefined in the
    others). A :class:`RuntimeError`, as in ReMU.

    Examples
    --------
    >>> from remu.binning import LinearBinning
    >>> from remu.migration import ResponseMatrix, ResponseMatrixArrayBuilder
    >>> builder = ResponseMatrixArrayBuilder(0)
    >>> for nuisance in ([], [1]):
    ...     matrix = ResponseMatrix(
    ...         LinearBinning("reco", [0, 1, 2]),
    ...         LinearBinning("true", [0, 1, 2]),
    ...         nuisance_indices=nuisance,
    ...     )
    ...     matrix.fill({"true": [0.5, 1.5], "reco": [0.5, 1.5]})
    ...     try:
    ...         builder.add_matrix(matrix)
    ...     except RuntimeError as error:
    ...         print(type(error).__name__)
    ...         print(error)
    IncompatibleMatricesError
    Matrices have different nuisance indices! (this one: [1], earlier ones: [])
    """


class EmptyBuilderError(RuntimeError, TypeError):
    """A ``ResponseMatrixArrayBuilder`` asked for its matrices before any was added.

    Both a :class:`RuntimeError` and a :class:`TypeError` (what the reference
    raises from its empty state).

    Examples
    --------
    >>> from remu.migration import ResponseMatrixArrayBuilder
    >>> try:
    ...     ResponseMatrixArrayBuilder(1).get_random_response_matrices_as_ndarray()
    ... except RuntimeError as error:
    ...     print(f"{type(error).__name__}: {error}")
    EmptyBuilderError: no response matrices have been added to the builder yet (use add_matrix)
    """


class InsufficientStatisticsError(RuntimeError):
    """Too few events for the requested statistical statement.

    Raised by ``matrix_utils.compatibility`` when no truth bin holds enough
    reconstructed events to reach ``min_quality``: with so few events the shared
    prior dominates both matrices and a compatibility test says nothing. The
    message gives the threshold and the best bin. A :class:`RuntimeError`, as in
    ReMU.

    Examples
    --------
    Two matrices with one event each:

    >>> from remu.binning import LinearBinning
    >>> from remu.matrix_utils import compatibility
    >>> from remu.migration import ResponseMatrix
    >>> first, second = (
    ...     ResponseMatrix(LinearBinning("reco", [0, 1, 2]), LinearBinning("true", [0, 1, 2]))
    ...     for _ in range(2)
    ... )
    >>> first.fill({"true": [0.5], "reco": [0.5]})
    >>> second.fill({"true": [1.5], "reco": [1.5]})
    >>> try:
    ...     compatibility(first, second)
    ... except RuntimeError as error:
    ...     print(type(error).__name__)
    InsufficientStatisticsError
    """


class BinMergeError(RuntimeError):
    """A truth bin that ``matrix_utils.improve_stats`` cannot merge with a neighbour.

    Raised for binning types without a notion of neighbouring bins, and for a
    plain bin of a binning that has sub-binnings elsewhere (merging it would
    need a sub-binning on one side only). A :class:`RuntimeError`, as in ReMU.

    Examples
    --------
    A :class:`~remu.binning.RectangularBinning` is a list of boxes, without
    neighbours:

    >>> from remu.binning import LinearBinning, RectangularBinning
    >>> from remu.matrix_utils import improve_stats
    >>> from remu.migration import ResponseMatrix
    >>> truth = RectangularBinning(["true"], [((0.0, 1.0),), ((1.0, 2.0),)])
    >>> matrix = ResponseMatrix(LinearBinning("reco", [0, 1, 2]), truth)
    >>> matrix.fill({"true": [0.5, 1.5, 1.6], "reco": [0.5, 1.5, 1.6]})
    >>> try:
    ...     improve_stats(matrix)
    ... except RuntimeError as error:
    ...     print(type(error).__name__)
    BinMergeError
    """


class NoMergeNeighbourError(BinMergeError, ValueError):
    """The truth bin to merge has no neighbour: its binning holds a single bin.

    Both a :class:`BinMergeError` and a :class:`ValueError` (what ReMU raises
    in this case, from ``argmin`` of an empty sequence).

    Examples
    --------
    >>> from remu.binning import LinearBinning
    >>> from remu.matrix_utils import improve_stats
    >>> from remu.migration import ResponseMatrix
    >>> matrix = ResponseMatrix(LinearBinning("reco", [0, 1, 2]), LinearBinning("true", [0, 2]))
    >>> matrix.fill({"true": [0.5], "reco": [0.5]})
    >>> try:
    ...     improve_stats(matrix)
    ... except ValueError as error:
    ...     print(f"{type(error).__name__}: {error}")
    NoMergeNeighbourError: no neighbouring truth bin to merge with (the binning has a single bin)
    """


class IrregularFieldError(InputError):
    """An event field that is not one number per event: jagged, option-typed or nested.

    Raised for awkward arrays (and ROOT branches) whose field holds a list per
    event (``var * float32``), values that may be missing (``?float64``), records
    or nested lists; the message names the field. ``fill_from_root(...,
    flatten=[name])`` flattens jagged fields and reads missing values as NaN.
    A :class:`ValueError`, as NumPy raises for ragged sequences.

    Examples
    --------
    >>> import awkward as ak
    >>> from remu.binning import LinearBinning
    >>> events = ak.Array({"x": [[0.5, 0.7], [0.2]]})  # two values in the first event
    >>> try:
    ...     LinearBinning("x", [0, 1]).fill(events)
    ... except ValueError as error:
    ...     print(type(error).__name__)
    IrregularFieldError
    """


class NotAGridError(TypeError):
    """A binning whose bins do not form a grid of intervals, so it is no UHI histogram.

    Raised by the ``PlottableHistogram`` methods (``axes``, ``values``, ...) and
    ``to_hist`` of binnings with subbinnings, or of products whose constituents are
    not grids; the message says why and what to do (e.g. ``marginalize_subbinnings()``).
    A :class:`TypeError`: the object does not support the protocol.

    Examples
    --------
    >>> from remu.binning import LinearBinning
    >>> sub = LinearBinning("y", [0, 1, 2])
    >>> nested = LinearBinning("x", [0, 1, 2], subbinnings={0: sub})
    >>> try:
    ...     nested.values()
    ... except TypeError as error:
    ...     print(type(error).__name__)
    NotAGridError
    >>> nested.marginalize_subbinnings().values()
    array([0., 0.])
    """


_facade.install(__name__)
