"""Implementation of :mod:`remu.migration` and :mod:`remu.matrix_utils`.

* ``posterior``: the Bayesian model of a response matrix on plain arrays.
* ``response``: :class:`ResponseMatrix` (three histograms filled together).
* ``builder``: :class:`ResponseMatrixArrayBuilder` (many detector variations).
* ``npz``: the exported ``.npz`` layout, writing and validated reading.
* ``quality``: Mahalanobis distance and compatibility checks.
* ``improve``: truth-bin merging (``improve_stats``).
"""
