"""Likelihood scenarios run identically with our remu and with remu 0.8.0.

Plain NumPy at module level; ``remu.likelihood`` is imported inside the functions.
A predictor is described by a *spec* (arrays allowed, see ``oracle_exchange``)::

    {"type": "matrix", "matrices": A, "constants": c, "weights": w, "bounds": b}
    {"type": "template", "templates": T, "constants": c, "weights": w}
    {"type": "einsum", "subscripts": s, "coefficients": C, "constants": c,
     "weights": w, "reshape_parameters": [...], "defaults": d}
    {"type": "composed" | "summed" | "concatenated", "predictors": [spec, ...],
     "combine": "cartesian" | "same", "share_parameters": bool, "scale_factors": [...]}
    {"type": "composed_matrix", "predictors": [spec, ...]}
    {"type": "linearized", "predictor": spec, "evaluation_point": p, "evaluation_steps": s}
    {"type": "fixed" | "fixed_generic", "predictor": spec, "fix_values": [...]}

A systematics index is ``None`` (default), an int, ``{"slice": [a, b]}`` or a list.
"""

from __future__ import annotations

import numpy as np


def _lh():
    from remu import likelihood

    return likelihood


def _opt(spec, *names):
    return {n: spec[n] for n in names if spec.get(n) is not None}


def build_predictor(spec: dict):
    lh = _lh()
    t = spec["type"]
    if t == "matrix":
        return lh.MatrixPredictor(
            spec["matrices"], **_opt(spec, "constants", "weights", "bounds", "defaults")
        )
    if t == "template":
        return lh.TemplatePredictor(
            spec["templates"], **_opt(spec, "constants", "weights", "bounds", "defaults")
        )
    if t == "einsum":
        kw = _opt(spec, "constants", "weights", "bounds", "defaults")
        if spec.get("reshape_parameters") is not None:
            kw["reshape_parameters"] = tuple(spec["reshape_parameters"])
        return lh.LinearEinsumPredictor(spec["subscripts"], spec["coefficients"], **kw)
    if t in ("composed", "summed", "concatenated", "composed_matrix"):
        parts = [build_predictor(p) for p in spec["predictors"]]
        kw = {"combine_systematics": spec.get("combine", "cartesian")}
        if t == "composed":
            return lh.ComposedPredictor(parts, **kw)
        if t == "composed_matrix":
            return lh.ComposedMatrixPredictor(parts, **kw)
        if t == "summed":
            return lh.SummedPredictor(parts, scale_factors=spec.get("scale_factors"), **kw)
        return lh.ConcatenatedPredictor(
            parts, share_parameters=spec.get("share_parameters", False), **kw
        )
    if t == "linearized":
        return lh.LinearizedPredictor(
            build_predictor(spec["predictor"]),
            **_opt(spec, "evaluation_point", "evaluation_steps"),
        )
    if t == "fixed":
        return build_predictor(spec["predictor"]).fix_parameters(spec["fix_values"])
    if t == "fixed_generic":
        return lh.FixedParameterPredictor(build_predictor(spec["predictor"]), spec["fix_values"])
    msg = f"unknown predictor type {t!r}"
    raise ValueError(msg)


def _index(idx):
    if isinstance(idx, dict):
        return slice(*idx["slice"])
    return idx


def predict(case: dict) -> dict:
    """Bounds, defaults, and predictions for each systematics index asked for."""
    pred = build_predictor(case["spec"])
    out = {
        "bounds": np.asarray(pred.bounds, dtype=float),
        "defaults": np.asarray(pred.defaults, dtype=float),
        "check_bounds": np.asarray(pred.check_bounds(case["parameters"])),
    }
    results = []
    for idx in case.get("indices", [None]):
        kw = {} if idx is None else {"systematics_index": _index(idx)}
        p, w = pred(case["parameters"], **kw)
        results.append({"prediction": np.asarray(p, float), "weights": np.asarray(w, float)})
    out["results"] = results
    return out


def _calculator(case):
    lh = _lh()
    data = lh.PoissonData(case["data"])
    kw = {} if case.get("systematics") is None else {"systematics": case["systematics"]}
    calc = lh.LikelihoodCalculator(data, build_predictor(case["spec"]), **kw)
    if case.get("fix_values") is not None:
        calc = calc.fix_parameters(case["fix_values"])
    if case.get("compose") is not None:
        calc = calc.compose(build_predictor(case["compose"]))
    return calc


def log_likelihood(case: dict) -> dict:
    """Log-likelihoods of a batch of parameter vectors (and of each single one)."""
    calc = _calculator(case)
    params = np.asarray(case["parameters"], dtype=float)
    batch = np.asarray(calc(params), dtype=float)
    # one vector at a time; upstream returns a bare -inf for an out-of-bounds vector even
    # with several data sets (D30), so broadcast to the data sets' shape
    lead = np.shape(case["data"])[:-1]
    single = (
        np.array([np.broadcast_to(np.asarray(calc(p), dtype=float), lead) for p in params])
        if params.ndim == 2
        else None
    )
    return {"batch": batch, "single": single}


def poisson(case: dict) -> dict:
    """``PoissonData.log_likelihood`` on raw predictions (zeros, negatives, inf, nan)."""
    lh = _lh()
    data = lh.PoissonData(case["data"])
    with np.errstate(all="ignore"):
        return {"ll": np.asarray(data.log_likelihood(case["mu"]), dtype=float)}


def consume(case: dict) -> dict:
    """Marginal and profile reduction of the systematics axis."""
    lh = _lh()
    ll = np.asarray(case["ll"], dtype=float)
    w = case.get("weights")
    return {
        "marginal": np.asarray(lh.MarginalLikelihoodSystematics.consume_axis(ll, w), float),
        "profile": np.asarray(lh.ProfileLikelihoodSystematics.consume_axis(ll, w), float),
    }


def maximize(case: dict) -> dict:
    """Basin-hopping maximum with the global numpy seed set (stream may differ)."""
    lh = _lh()
    calc = _calculator(case)
    np.random.seed(case["seed"])
    opt = lh.BasinHoppingMaximizer(**case.get("maximizer_kwargs", {}))(calc)
    return {
        "x": np.asarray(opt.x, dtype=float),
        "log_likelihood": float(opt.log_likelihood),
        "fun": float(opt.fun),
        "at_x": float(calc(np.asarray(opt.x, dtype=float))),
    }


def wilks(case: dict) -> dict:
    """Wilks p-values for each (fix, alternative) pair."""
    lh = _lh()
    calc = _calculator(case)
    np.random.seed(case["seed"])
    tester = lh.HypothesisTester(calc)
    out = []
    for fix, alt in case["hypotheses"]:
        out.append(float(tester.wilks_max_likelihood_ratio_p_value(fix, alt)))
    return {"p": np.array(out)}


def toy_p_values(case: dict) -> dict:
    """Monte-Carlo p-values (compared statistically: the random streams differ)."""
    lh = _lh()
    calc = _calculator(case)
    tester = lh.HypothesisTester(calc)
    out = {}
    np.random.seed(case["seed"])
    if case.get("parameters") is not None:
        out["likelihood"] = np.asarray(
            tester.likelihood_p_value(case["parameters"], N=case["N"]), dtype=float
        )
    if case.get("max_N"):
        out["max_likelihood"] = float(tester.max_likelihood_p_value(N=case["max_N"]))
    return out


def jeffreys(case: dict) -> dict:
    """Jeffreys log-prior and Fisher matrix with a scalar step (identity translation)."""
    lh = _lh()
    prior = lh.JeffreysPrior(
        np.asarray(case["response"], dtype=float),
        lambda x: x,
        case["limits"],
        case["defaults"],
        dx=case["dx"],
        total_truth_limit=case.get("total"),
    )
    values = [np.asarray(v, dtype=float) for v in case["values"]]
    log_prior = np.array([float(prior(v)) for v in values])
    n = len(case["limits"])
    fisher = np.array(
        [
            prior.fisher_matrix(v) if np.isfinite(lp) else np.full((n, n), np.nan)
            for v, lp in zip(values, log_prior, strict=True)
        ]
    )
    return {"log_prior": log_prior, "fisher": fisher}


def derivative(case: dict) -> dict:
    """The finite-difference helper on smooth functions (first and second derivatives)."""
    lh = _lh()
    funcs = {"sin": np.sin, "cube": lambda x: x**3, "exp": np.exp}
    out = {}
    for name, f in funcs.items():
        for n, order in case.get("orders", ((1, 3), (2, 3))):
            x0 = np.asarray(case["x0"], dtype=float)
            try:
                value = np.asarray(
                    lh.derivative(f, x0, dx=case["dx"], n=n, order=order), dtype=float
                )
            except ValueError as exc:
                value = f"ValueError: {exc}"
            out[f"{name}-{n}-{order}"] = value
    return out


def initial_guess(case: dict) -> dict:
    """emcee starting points: shape and support (the draws themselves differ by design)."""
    from remu import likelihood_utils

    calc = _calculator(case)
    np.random.seed(case["seed"])
    g = np.asarray(likelihood_utils.emcee_initial_guess(calc, nwalkers=case["nwalkers"]))
    b = np.asarray(calc.predictor.bounds, dtype=float)
    return {
        "shape": list(g.shape),
        "inside": bool(np.all((g >= b[:, 0]) & (g <= b[:, 1]))),
        "mean": g.mean(axis=0),
    }


def futures_mapper(case: dict) -> dict:
    """Toy p-values with a mapper that returns futures (as ``client.map`` of Dask does).

    Each method's outcome is recorded: its p-value, or ``"<ExceptionType>: message"``.
    """
    import concurrent.futures

    lh = _lh()
    calc = _calculator(case)
    tester = lh.HypothesisTester(calc)
    out = {}
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        previous = lh.mapper
        lh.mapper = lambda function, items: [pool.submit(function, item) for item in items]
        try:
            for name, call in (
                ("max_likelihood", lambda: tester.max_likelihood_p_value(N=3)),
                ("ratio", lambda: tester.max_likelihood_ratio_p_value(case["fix"], N=3)),
            ):
                np.random.seed(case["seed"])
                try:
                    out[name] = float(call())
                except Exception as err:  # noqa: BLE001 - recorded for the comparison
                    out[name] = f"{type(err).__name__}: {err}"
        finally:
            lh.mapper = previous
    return out
