"""Implementation of :mod:`remu.likelihood`, split by concept.

``predictors`` (parameters -> predictions), ``data`` (data models and the
Jeffreys prior), ``systematics`` (how the systematics axis is reduced),
``calculator`` (the log-likelihood function), ``maximizers`` (fits) and
``hypothesis`` (p-values). Import the public names from :mod:`remu.likelihood`.
"""
