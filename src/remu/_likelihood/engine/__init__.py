"""The fitting engine: maximum-likelihood fits of many problems at once.

One engine fits a single data set (``BasinHoppingMaximizer()(calc)``), many toy data
sets (the toy p-values of :class:`HypothesisTester`) and many constrained variants
of one model (the points of a likelihood-ratio scan), always with the same
algorithm, so the test statistic of the observed data and of every toy is computed
the same way. Split by concept:

``eligibility``
    Which calculators and maximizers it applies to. It reads the opt-in hooks of
    :mod:`remu._likelihood.optin` (``Predictor._linear_form``,
    ``SystematicsConsumer._engine_kind``, ``DataModel._engine_poisson``,
    ``LikelihoodMaximizer._engine_settings``); anything that does not opt in is
    fitted by scipy as before.
``objective``
    ``F = -log L`` of a batch of problems with its exact gradient and Hessian, for
    the marginal and the profile treatment of systematic variations: exact for
    linear predictors (``A @ x + c``), with batched finite-difference Jacobians for
    any other predictor.
``newton``
    The bounded, damped Newton solver (Cholesky solves, an active-set treatment of
    the bounds, a line search per problem).
``hopping``
    scipy's basin-hopping loop (random displacement, Metropolis acceptance,
    adaptive step) on every problem in lockstep, after first fits that also start
    from the maxima of the single systematic variations.
``batching``
    Chunks of problems for ``remu.likelihood.mapper`` and the picklable chunk
    workers.
``api``
    The entry points used by the maximizers and the hypothesis tester.
``cache``
    Content fingerprints of fits, so that a repeated fit of the same problem can be
    reused without ever returning a stale result.
"""
