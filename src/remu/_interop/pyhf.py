"""Export of a forward-folded template model as a pyhf JSON workspace.

The model is any remu predictor that is linear in its parameters, typically a
``ResponseMatrixPredictor`` composed with a ``TemplatePredictor``: parameter ``k``
scales template ``k`` (a truth-space distribution), the response folds it into reco
space, and constants (fixed backgrounds) are added. Such a predictor is fully
described by its prediction at zero (the constants) and one column per parameter,
for each systematic variation; both are read by evaluating the predictor, so no
predictor internals are touched.

pyhf itself is only imported to validate the result (``pip install 'remu[pyhf]'``).
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from remu._optional import optional_import
from remu.errors import InputError

__all__ = ["LinearModel", "linear_model", "to_pyhf_workspace"]

_SYSTEMATICS = ("histosys", "shapesys", None)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


@dataclass(frozen=True)
class LinearModel:
    """A predictor linear in its parameters, per systematic variation.

    ``prediction[s] = constants[s] + columns[s] @ parameters``.

    Attributes
    ----------
    columns : ndarray, shape (n_systematics, n_bins, n_parameters)
        The folded template of each parameter (its prediction at unit value).
    constants : ndarray, shape (n_systematics, n_bins)
    weights : ndarray, shape (n_systematics,)
        Normalised to sum to 1.
    bounds : ndarray, shape (n_parameters, 2)
    defaults : ndarray, shape (n_parameters,)
    """

    columns: NDArray[np.float64]
    constants: NDArray[np.float64]
    weights: NDArray[np.float64]
    bounds: NDArray[np.float64]
    defaults: NDArray[np.float64]


def linear_model(predictor: Any, *, rtol: float = 1e-8) -> LinearModel:
    """Read the columns and constants of a linear predictor by evaluating it.

    The predictor is evaluated at zero, at every unit vector and, as a check of
    linearity, at a point built from its defaults.

    Parameters
    ----------
    predictor : Predictor
        Any remu predictor whose predictions are linear in the parameters.
    rtol : float
        Relative tolerance of the linearity check.

    Returns
    -------
    LinearModel

    Raises
    ------
    TypeError
        If `predictor` is not a remu predictor.
    ValueError
        If the predictor is not linear in its parameters, or its weights change with
        the parameters or are not positive.

    Examples
    --------
    >>> from remu.likelihood import MatrixPredictor, TemplatePredictor
    >>> response = MatrixPredictor([[[0.9, 0.1], [0.1, 0.8]], [[0.8, 0.2], [0.1, 0.7]]])
    >>> model = linear_model(response.compose(TemplatePredictor([[10.0, 0.0], [5.0, 5.0]])))
    >>> model.columns.shape, model.columns[0].tolist()
    ((2, 2, 2), [[9.0, 5.0], [1.0, 4.5]])
    """
    for attribute in ("prediction", "bounds", "defaults"):
        if not hasattr(predictor, attribute):
            msg = f"expected a remu predictor; {type(predictor).__name__} has no {attribute!r}"
            raise TypeError(msg)
    defaults = np.asarray(predictor.defaults, dtype=float).reshape(-1)
    n = len(defaults)
    bounds = np.asarray(predictor.bounds, dtype=float).reshape(n, 2)
    # A check point away from zero and from the unit vectors, inside the bounds if finite.
    check = np.where(np.isfinite(defaults) & (defaults != 0), 1.3 * defaults, 0.7)
    check += 0.1 * np.arange(1, n + 1)
    points = np.vstack([np.zeros(n), np.eye(n), check])
    with np.errstate(under="ignore"):
        prediction, weights = predictor.prediction(points)
    prediction = np.asarray(prediction, dtype=float)
    weights = np.broadcast_to(np.asarray(weights, dtype=float), prediction.shape[:-1])
    if prediction.ndim != 3:
        msg = f"the predictor returned predictions of shape {prediction.shape} for {n + 2} points"
        raise ValueError(msg)
    constants = prediction[0]
    columns = np.moveaxis(prediction[1 : n + 1] - constants, 0, -1)
    expected = constants + columns @ check
    scale = np.max(np.abs(prediction)) if prediction.size else 0.0
    if not np.allclose(prediction[-1], expected, rtol=rtol, atol=rtol * scale):
        worst = float(np.max(np.abs(prediction[-1] - expected)))
        msg = (
            "the predictor is not linear in its parameters (prediction and linear model "
            f"differ by up to {worst:.3g} at {check.tolist()}); only template models of the "
            "form constants + matrix @ parameters can become pyhf samples"
        )
        raise ValueError(msg)
    if not np.allclose(weights, weights[0]):
        msg = "the predictor's systematics weights depend on the parameters"
        raise ValueError(msg)
    w = np.array(weights[0])
    if np.any(w < 0) or not np.any(w > 0) or not np.all(np.isfinite(w)):
        msg = f"systematics weights must be non-negative, finite and not all zero; got {w}"
        raise ValueError(msg)
    return LinearModel(
        columns=columns,
        constants=constants,
        weights=w / w.sum(),
        bounds=bounds,
        defaults=defaults,
    )


def _data_counts(data: Any, n_bins: int) -> list[float]:
    vector = getattr(data, "data_vector", data)
    counts = np.asarray(vector, dtype=float)
    if counts.ndim != 1 or len(counts) != n_bins:
        msg = (
            f"the data must be one vector of {n_bins} counts (the predictor's reco bins); "
            f"got shape {counts.shape}"
        )
        raise InputError(msg)
    if not np.all(np.isfinite(counts)) or np.any(counts < 0):
        msg = f"the data must be finite, non-negative counts; got {counts.tolist()}"
        raise InputError(msg)
    as_list: list[float] = counts.tolist()
    return as_list


def _names(given: Sequence[str] | None, n: int, default: str, what: str) -> list[str]:
    names = [f"{default}{k}" for k in range(n)] if given is None else [str(s) for s in given]
    if len(names) != n:
        msg = f"{what} needs {n} names (one per parameter); got {len(names)}: {names}"
        raise InputError(msg)
    for name in names:
        if not _NAME.match(name):
            msg = f"{what}: {name!r} is not a valid pyhf name (letters, digits, _ . -)"
            raise InputError(msg)
    if len(set(names)) != n:
        msg = f"{what} must be distinct; got {names}"
        raise InputError(msg)
    return names


def _finite_bounds(
    model: LinearModel, nominal: NDArray[np.float64], data: list[float], bounds: Any
) -> NDArray[np.float64]:
    """Parameter bounds for JSON (which has no infinity)."""
    n = len(model.defaults)
    out: NDArray[np.float64]
    if bounds is not None:
        out = np.asarray(bounds, dtype=float)
        if out.shape != (n, 2) or not np.all(np.isfinite(out)) or np.any(out[:, 0] >= out[:, 1]):
            msg = (
                f"bounds must be {n} finite (lower, upper) pairs with lower < upper; got {bounds!r}"
            )
            raise InputError(msg)
        return out
    out = model.bounds.copy()
    total = sum(data)
    for k in range(n):
        folded = float(nominal[:, k].sum())
        # The normalisation at which this template alone explains all data, times 10.
        alone = abs(total / folded) if folded > 0 else 1.0
        reach = 10.0 * max(alone, abs(model.defaults[k]), 1.0)
        if not np.isfinite(out[k, 1]):
            out[k, 1] = max(reach, out[k, 0] + reach) if np.isfinite(out[k, 0]) else reach
        if not np.isfinite(out[k, 0]):
            out[k, 0] = min(-reach, out[k, 1] - reach)
    return out


def _principal_components(
    stacked: NDArray[np.float64], weights: NDArray[np.float64], fraction: float, limit: int | None
) -> NDArray[np.float64]:
    """Shifts ``sigma_j * v_j`` of the weighted covariance's leading eigenvectors.

    ``stacked`` is ``(n_systematics, n_features)``; the result ``(n_components,
    n_features)`` holds as many components as needed to explain ``fraction`` of the
    total variance (at most `limit`).
    """
    mean = weights @ stacked
    scaled = np.sqrt(weights)[:, np.newaxis] * (stacked - mean)
    if not np.any(scaled):
        return np.zeros((0, stacked.shape[1]))
    _, sigma, vt = np.linalg.svd(scaled, full_matrices=False)
    variance = sigma**2
    cumulative = np.cumsum(variance) / variance.sum()
    n = int(np.searchsorted(cumulative, fraction * (1 - 1e-12)) + 1)
    n = min(n, len(sigma), limit if limit is not None else len(sigma))
    components: NDArray[np.float64] = sigma[:n, np.newaxis] * vt[:n]
    return components


def _validate(spec: dict[str, Any]) -> None:
    pyhf = optional_import("pyhf", feature="likelihood_utils.to_pyhf_workspace")
    with warnings.catch_warnings():
        # pyhf 0.7 validates with an API that jsonschema >= 4.18 deprecates; it works
        # and is nothing a remu user can change.
        warnings.filterwarnings(
            "ignore", message="jsonschema.RefResolver is deprecated", category=DeprecationWarning
        )
        pyhf.Workspace(spec)


def to_pyhf_workspace(
    predictor: Any,
    data: ArrayLike,
    *,
    sample_names: Sequence[str] | None = None,
    systematics: str | None = "histosys",
    variance_fraction: float = 0.99,
    max_components: int | None = None,
    bounds: ArrayLike | None = None,
    poi: str | None = None,
    channel: str = "remu",
    measurement: str = "remu",
    background_name: str = "fixed_background",
    validate: bool = True,
) -> dict[str, Any]:
    """Export a forward-folded template model and its data as a pyhf JSON workspace.

    Every parameter of `predictor` becomes one pyhf sample: its folded template
    (the predictor's response to that parameter at unit value) with an unconstrained
    ``normfactor`` named ``mu_<sample>``. A non-zero prediction at zero parameters
    (fixed backgrounds, the constants of the predictor) becomes one more sample
    without normfactor. The detector systematics (the predictor's systematic
    variations, e.g. toy response matrices) are expressed as pyhf modifiers.

    **The approximation.** remu keeps every variation and averages (``"marginal"``)
    or maximises (``"profile"``) the likelihood over them; pyhf needs one nominal
    prediction plus modifiers. The export therefore uses

    - as nominal, the weighted **mean over the variations** of each folded template
      (for toy response matrices an estimate of the posterior mean response; a
      predictor without variations is exported exactly);
    - with ``systematics="histosys"`` (default), a **Gaussian approximation** of the
      spread of the variations: the weighted covariance of all folded templates
      (every sample and bin together) is decomposed into principal components, and
      each component ``j`` (standard deviation ``sigma_j``, direction ``v_j``)
      becomes one ``histosys`` nuisance parameter ``<channel>_response_pc<j>``,
      shared by all samples, with ``hi/lo_data = nominal ± sigma_j v_j``. pyhf's
      default piecewise-linear interpolation is exactly linear for these symmetric
      shifts, so at ``alpha = ±1`` the model moves by one standard deviation along
      the component, and correlations between bins and between templates (which
      share one detector) are kept. Components are kept until they explain
      `variance_fraction` of the total variance; the remainder is dropped. pyhf
      then *profiles* these parameters with unit Gaussian constraints, where remu
      averages over the variations: for near-Gaussian, moderate variations the
      best-fit normalisations agree to a small fraction of their statistical
      uncertainty (see the tests), not exactly;
    - with ``systematics="shapesys"``, per sample and bin an uncorrelated Poisson
      constraint (``shapesys``) with the standard deviation of the variations:
      cruder (it drops all correlations), for tools that expect ``shapesys``;
    - with ``systematics=None``, no modifier: only the mean response.

    Parameters
    ----------
    predictor : Predictor
        Linear in its parameters, e.g.
        ``ResponseMatrixPredictor(...).compose(TemplatePredictor(templates))``, or a
        composition with a ``SummedPredictor`` of signal and background templates.
    data : array_like or PoissonData
        The measured counts per reco bin.
    sample_names : sequence of str, optional
        One per parameter (letters, digits, ``_ . -``); default ``template_<k>``.
    systematics : {"histosys", "shapesys", None}
    variance_fraction : float
        Fraction of the variance of the variations kept by the ``histosys``
        components (0 < f <= 1).
    max_components : int, optional
        At most this many ``histosys`` components.
    bounds : array_like, shape (n_parameters, 2), optional
        Normfactor bounds. By default the predictor's; infinite bounds (JSON has no
        infinity) become ±10 times the larger of the default, 1, and the
        normalisation at which that template alone would explain all data.
    poi : str, optional
        The parameter of interest (a ``mu_<sample>`` name); default the first.
    channel, measurement : str
        Names of the single channel and of the measurement.
    background_name : str
        Name of the sample of the constant prediction (when there is one).
    validate : bool
        Check the result with ``pyhf.Workspace`` (needs ``pip install 'remu[pyhf]'``).

    Returns
    -------
    dict
        The workspace specification (plain JSON types): ``json.dump`` it, or pass it
        to ``pyhf.Workspace``.

    Raises
    ------
    ValueError
        If the predictor is not linear, the data do not fit, names are invalid, or
        an option is out of range (``remu.errors.InputError`` for bad input values).
    ImportError
        If `validate` is true and pyhf is not installed.

    Examples
    --------
    >>> from remu.likelihood import MatrixPredictor, TemplatePredictor
    >>> detector = MatrixPredictor([[[0.9, 0.1], [0.1, 0.8]], [[0.8, 0.2], [0.1, 0.7]]])
    >>> model = detector.compose(TemplatePredictor([[10.0, 0.0], [5.0, 5.0]]))
    >>> spec = to_pyhf_workspace(model, [12, 9], sample_names=["sig", "bkg"])
    >>> [s["name"] for s in spec["channels"][0]["samples"]]
    ['sig', 'bkg']
    >>> spec["channels"][0]["samples"][0]["data"]
    [8.5, 1.0]
    >>> [m["type"] for m in spec["channels"][0]["samples"][0]["modifiers"]]
    ['normfactor', 'histosys']
    """
    if systematics not in _SYSTEMATICS:
        msg = f"systematics must be 'histosys', 'shapesys' or None; got {systematics!r}"
        raise ValueError(msg)
    if not 0 < variance_fraction <= 1:
        msg = f"variance_fraction must be in (0, 1]; got {variance_fraction!r}"
        raise ValueError(msg)
    if max_components is not None and max_components < 0:
        msg = f"max_components must be non-negative; got {max_components!r}"
        raise ValueError(msg)
    model = linear_model(predictor)
    n_syst, n_bins, n_par = model.columns.shape
    counts = _data_counts(data, n_bins)
    names = _names(sample_names, n_par, "template_", "sample_names")
    for label, name in (("channel", channel), ("measurement", measurement)):
        _names([name], 1, "", label)
    # Composed matrix predictors compute their constants numerically: rounding noise
    # is no background.
    scale = float(np.max(np.abs(model.columns))) if model.columns.size else 0.0
    with_background = bool(np.max(np.abs(model.constants)) > 1e-10 * scale)
    if with_background:
        _names([*names, background_name], n_par + 1, "", "sample names with background_name")
    norms = [f"mu_{name}" for name in names]
    if poi is None:
        poi = norms[0]
    elif poi not in norms:
        msg = f"poi must be one of the normfactors {norms}; got {poi!r}"
        raise ValueError(msg)

    # (n_syst, n_bins, n_samples): the templates, then the constants as the last sample
    parts = model.columns
    if with_background:
        parts = np.concatenate([parts, model.constants[:, :, np.newaxis]], axis=-1)
    w = model.weights
    nominal = np.einsum("s,sbk->bk", w, parts)
    sample_names_all = names + ([background_name] if with_background else [])
    modifiers: list[list[dict[str, Any]]] = [
        [{"name": norm, "type": "normfactor", "data": None}] for norm in norms
    ]
    if with_background:
        modifiers.append([])

    if n_syst > 1 and systematics == "histosys":
        stacked = np.moveaxis(parts, -1, 1).reshape(n_syst, -1)  # sample-major features
        shifts = _principal_components(stacked, w, variance_fraction, max_components)
        shifts = shifts.reshape(len(shifts), parts.shape[-1], n_bins)
        for j, shift in enumerate(shifts):
            for k in range(parts.shape[-1]):
                if not np.any(shift[k]):
                    continue
                modifiers[k].append(
                    {
                        "name": f"{channel}_response_pc{j}",
                        "type": "histosys",
                        "data": {
                            "hi_data": (nominal[:, k] + shift[k]).tolist(),
                            "lo_data": (nominal[:, k] - shift[k]).tolist(),
                        },
                    }
                )
    elif n_syst > 1 and systematics == "shapesys":
        spread = np.sqrt(np.einsum("s,sbk->bk", w, (parts - nominal) ** 2))
        for k in range(parts.shape[-1]):
            uncertainty = np.where(nominal[:, k] > 0, spread[:, k], 0.0)
            if np.any(uncertainty > 0):
                modifiers[k].append(
                    {
                        "name": f"{channel}_response_shapesys_{sample_names_all[k]}",
                        "type": "shapesys",
                        "data": uncertainty.tolist(),
                    }
                )

    limits = _finite_bounds(model, nominal, counts, bounds)
    inits = np.clip(np.nan_to_num(model.defaults, nan=1.0), limits[:, 0], limits[:, 1])
    samples = [
        {"name": name, "data": nominal[:, k].tolist(), "modifiers": modifiers[k]}
        for k, name in enumerate(sample_names_all)
    ]
    spec: dict[str, Any] = {
        "channels": [{"name": channel, "samples": samples}],
        "observations": [{"name": channel, "data": counts}],
        "measurements": [
            {
                "name": measurement,
                "config": {
                    "poi": poi,
                    "parameters": [
                        {
                            "name": norm,
                            "bounds": [[float(limits[k, 0]), float(limits[k, 1])]],
                            "inits": [float(inits[k])],
                        }
                        for k, norm in enumerate(norms)
                    ],
                },
            }
        ],
        "version": "1.0.0",
    }
    if not all(math.isfinite(v) for s in samples for v in s["data"]):
        msg = "the predictor's folded templates contain non-finite values"
        raise ValueError(msg)
    if validate:
        _validate(spec)
    return spec
