"""Implementation of :mod:`remu.likelihood`, split by concept.

``predictors`` (parameters -> predictions), ``data`` (data models and the
Jeffreys prior), ``systematics`` (how the systematics axis is reduced),
``calculator`` (the log-likelihood function), ``maximizers`` (fits),
``hypothesis`` (p-values), ``engine`` (the fitting engine behind fits, scans and
toys) and ``optin`` (how classes opt in to the engine's fast paths). Import the
public names from :mod:`remu.likelihood`.
"""
