"""Toy Monte Carlo of the hypothesis tests: blocks of toys, their random streams, where they run.

Blocks
    The toys of one p-value are drawn and fitted in blocks of a fixed size:
    :data:`FIT_BLOCK` toys for the tests that fit every toy
    (``max_likelihood_p_value``, ``max_likelihood_ratio_p_value``),
    :data:`EVALUATION_BLOCK` for ``likelihood_p_value``. The size depends on
    nothing else: not on the executor or its number of workers, not on the
    mapper, not on whether the toys are fitted by the engine or one by one.

Random streams
    A root :class:`numpy.random.SeedSequence` is drawn from the caller's
    generator; block ``k`` gets its child ``k`` (what ``SeedSequence.spawn``
    gives, derived without changing any sequence's state). The block's child 0
    draws its toys, child 1 seeds its fits (child 2 the H1 fits of a likelihood
    ratio): one basin-hopping stream for a whole block fitted by the engine, or
    child ``j`` of it for toy ``j`` when the toys are fitted one by one. A toy's
    data and statistic therefore depend only on the seed, ``N`` and its place --
    the same on every executor and every number of workers.

Where they run
    * ``executor=None``: the toys are drawn in the calling process, block by
      block, and fitted through ``remu.likelihood.mapper`` as in ReMU: one item per
      block for the engine's vectorised fits, one item per toy for fits one by one
      (``likelihood_p_value`` evaluates its toys in the calling process, as one
      vectorised call per block).
    * ``executor=`` a :class:`concurrent.futures.Executor` or a
      ``distributed.Client``: consecutive blocks are sent in chunks (about four
      per worker, at most two per worker in flight); each task draws its
      blocks' toys and fits them where it runs, and only the toys' statistics
      travel back. A ``distributed.Client`` receives the job (predictor,
      maximizer) once, scattered to the cluster.

Identical results
    Every block is computed from one pickled copy of the job, made in the calling
    process also when nothing leaves it: the arrays of a predictor may be views
    with any memory layout, and an unpickled copy holds contiguous ones, whose
    products round differently in the last digit. With that copy, executor and
    worker count change nothing, down to the last bit.
"""

from __future__ import annotations

import builtins
import concurrent.futures
import contextlib
import io
import math
import os
import pickle
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from remu._likelihood.calculator import LikelihoodCalculator
from remu._likelihood.engine.api import toy_log_likelihoods
from remu._likelihood.engine.batching import ToyChunkFit
from remu._likelihood.engine.eligibility import engine_settings
from remu._likelihood.maximizers import LikelihoodMaximizer, accepts_rng

__all__ = [
    "EVALUATION_BLOCK",
    "FIT_BLOCK",
    "Block",
    "EngineFitter",
    "Evaluator",
    "PerToyFitter",
    "ToyRun",
    "ToySource",
    "ToyValues",
    "check_executor",
    "child",
    "plan_blocks",
    "root_sequence",
    "run_toys",
    "seed_of",
    "seeded_fit",
    "toy_engine_settings",
]

#: toys per block of the tests that fit every toy
FIT_BLOCK = 64
#: toys per block of ``likelihood_p_value`` (evaluations only)
EVALUATION_BLOCK = 1024
# Tasks per worker of an executor, and tasks in flight per worker.
_TASKS_PER_WORKER = 4
_IN_FLIGHT_PER_WORKER = 2


# -- random streams ------------------------------------------------------------------------


def child(sequence: np.random.SeedSequence, index: int) -> np.random.SeedSequence:
    """Child ``index`` of ``sequence``, as ``sequence.spawn`` makes it, without changing it.

    Examples
    --------
    >>> root = np.random.SeedSequence(5)
    >>> child(root, 1).generate_state(1) == root.spawn(2)[1].generate_state(1)
    array([ True])
    """
    return np.random.SeedSequence(
        sequence.entropy,
        spawn_key=(*sequence.spawn_key, index),
        pool_size=sequence.pool_size,
    )


def seed_of(sequence: np.random.SeedSequence) -> int:
    """Draw an integer seed (``0 <= seed < 2**63``) from a seed sequence."""
    return int(sequence.generate_state(1, np.uint64)[0] >> np.uint64(1))


def root_sequence(gen: np.random.Generator) -> np.random.SeedSequence:
    """Draw the root of the toys' random streams from the caller's generator (128 bits)."""
    return np.random.SeedSequence([int(v) for v in gen.integers(0, 2**63 - 1, size=2)])


class Block(NamedTuple):
    """A block of toys: its place, its number of toys and its random stream."""

    # the field shadows tuple.index, which no caller uses on a Block
    index: int  # type: ignore[assignment]
    size: int
    seed: np.random.SeedSequence


def plan_blocks(n_toys: int, block_size: int, root: np.random.SeedSequence) -> list[Block]:
    """Split ``n_toys`` toys into blocks: ``block_size`` each, the last one the rest.

    Examples
    --------
    >>> [b.size for b in plan_blocks(150, 64, np.random.SeedSequence(0))]
    [64, 64, 22]
    """
    return [
        Block(k, min(block_size, n_toys - begin), child(root, k))
        for k, begin in enumerate(range(0, n_toys, block_size))
    ]


# -- what a block computes -----------------------------------------------------------------


class ToyValues(NamedTuple):
    """The statistics of a block of toys and how many were re-fitted without the engine."""

    values: NDArray[np.float64]
    refits: int


def seeded_fit(maximizer: Any, calculator: LikelihoodCalculator, seed: int) -> Any:
    """One fit, seeded if the maximizer asks for a seed (an explicit ``rng`` parameter)."""
    fit = getattr(maximizer, "maximize_log_likelihood", None)
    if isinstance(maximizer, LikelihoodMaximizer) and fit is not None and accepts_rng(fit):
        return fit(calculator, rng=seed)
    return maximizer(calculator)


def toy_engine_settings(maximizer: Any, n_free: int) -> Any:
    """Return the engine settings of the maximizer's toy fits (its hook), or ``None``."""
    hook = getattr(maximizer, "_toy_engine_settings", None)
    if hook is None:
        return engine_settings(maximizer, n_free)
    return hook(n_free)


class ToySource:
    """Draws the toys of a block: toy data of a calculator at one parameter vector.

    Parameters
    ----------
    calculator : LikelihoodCalculator
    parameters : ndarray
        Shape ``(n_parameters,)``.
    kwargs : dict
        Passed on to the predictor (e.g. ``systematics_index=``).
    """

    def __init__(
        self,
        calculator: LikelihoodCalculator,
        parameters: NDArray[np.float64],
        kwargs: dict[str, Any],
    ) -> None:
        self.calculator = calculator
        self.parameters = parameters
        self.kwargs = kwargs
        # Bad predictions or weights are reported here, in the calling process.
        calculator._generate_toy_data(parameters, 0, np.random.default_rng(0), **kwargs)

    def draw(self, block: Block) -> Any:
        """Draw the toy data of ``block``, shape ``(block.size, n_bins)``."""
        gen = np.random.default_rng(child(block.seed, 0))
        return self.calculator._generate_toy_data(self.parameters, block.size, gen, **self.kwargs)


class Evaluator:
    """Log-likelihood of toys at one parameter vector (no fit), one vectorised call per block."""

    mapped = False

    def __init__(
        self,
        calculator: LikelihoodCalculator,
        parameters: NDArray[np.float64],
        kwargs: dict[str, Any],
    ) -> None:
        self.calculator = calculator
        self.parameters = parameters
        self.kwargs = kwargs

    # Every fitter takes the block's seed; evaluating fixed parameters draws nothing.
    def fit_block(self, counts: Any, sequence: np.random.SeedSequence) -> ToyValues:  # noqa: ARG002
        """Compute the log-likelihood of every toy of a block."""
        values = toy_log_likelihoods(self.calculator, counts, self.parameters, **self.kwargs)
        return ToyValues(np.asarray(values, dtype=float), 0)


class EngineFitter:
    """Maximum log-likelihood of the toys of a block, all fitted at once by the engine.

    Called by ``mapper`` with ``(counts, seed)`` items, one per block.
    """

    mapped = True

    def __init__(self, fit: ToyChunkFit) -> None:
        self.fit = fit

    def fit_block(self, counts: Any, sequence: np.random.SeedSequence) -> ToyValues:
        """Fit the maxima of a block's toys, the basin hopping seeded by ``sequence``."""
        return self((counts, seed_of(sequence)))

    def __call__(self, item: tuple[Any, int]) -> ToyValues:
        counts, seed = item
        values, refits = self.fit.fit(np.asarray(counts), seed)
        return ToyValues(values, refits)

    def items(self, blocks: Sequence[Block], counts: Iterable[Any], stream: int) -> Iterator[Any]:
        """Return the mapper's items: one per block."""
        for block, data in zip(blocks, counts, strict=True):
            yield data, seed_of(child(block.seed, stream))

    @staticmethod
    def sizes(blocks: Sequence[Block]) -> list[int]:
        """Toys per item."""
        return [block.size for block in blocks]


class PerToyFitter:
    """Maximum log-likelihood of toys fitted one by one by the maximizer (as ReMU does).

    Called by ``mapper`` with ``(counts, seed)`` items, one per toy; toy ``j`` of a
    block is seeded by child ``j`` of the block's fit stream.
    """

    mapped = True

    def __init__(self, calculator: LikelihoodCalculator, maximizer: Any) -> None:
        self.calculator = calculator
        self.maximizer = maximizer

    def fit_one(self, counts: Any, seed: int) -> float:
        """Fit the maximum of one toy."""
        calc = self.calculator._with_data(counts)
        return float(seeded_fit(self.maximizer, calc, seed).log_likelihood)

    def fit_block(self, counts: Any, sequence: np.random.SeedSequence) -> ToyValues:
        """Fit the maxima of a block's toys, one fit each."""
        values = [self.fit_one(data, seed_of(child(sequence, j))) for j, data in enumerate(counts)]
        return ToyValues(np.array(values, dtype=float), 0)

    def __call__(self, item: tuple[Any, int]) -> float:
        counts, seed = item
        return self.fit_one(counts, seed)

    def items(self, blocks: Sequence[Block], counts: Iterable[Any], stream: int) -> Iterator[Any]:
        """Return the mapper's items: one per toy."""
        for block, data in zip(blocks, counts, strict=True):
            sequence = child(block.seed, stream)
            for j, toy in enumerate(data):
                yield toy, seed_of(child(sequence, j))

    @staticmethod
    def sizes(blocks: Sequence[Block]) -> list[int]:
        """Toys per item."""
        return [1] * sum(block.size for block in blocks)


class PerToyRatio:
    """Log max-likelihood ratio H0/H1 of one toy, both fitted one by one: a ``mapper`` job."""

    def __init__(self, h0: PerToyFitter, h1: PerToyFitter) -> None:
        self.h0 = h0
        self.h1 = h1

    def __call__(self, item: tuple[Any, int, int]) -> float:
        counts, seed0, seed1 = item
        return self.h0.fit_one(counts, seed0) - self.h1.fit_one(counts, seed1)


Fitter = Evaluator | EngineFitter | PerToyFitter


class BlockJob:
    """Draw and fit whole blocks: the task an executor runs (picklable).

    Parameters
    ----------
    source : ToySource
    fitters : tuple
        One fitter (the statistic) or two (H0 and H1: the statistic is the
        difference of their maxima).
    errstate : dict
        The caller's NumPy error handling, restored in the worker.
    """

    def __init__(
        self, source: ToySource, fitters: tuple[Fitter, ...], errstate: Mapping[str, Any]
    ) -> None:
        self.source = source
        self.fitters = fitters
        self.errstate = errstate

    def block(self, block: Block, counts: Any = None) -> ToyValues:
        """Compute the statistics of one block (its toys drawn unless given)."""
        with np.errstate(**self.errstate):
            data = self.source.draw(block) if counts is None else counts
            parts = [
                fitter.fit_block(data, child(block.seed, stream))
                for stream, fitter in enumerate(self.fitters, start=1)
            ]
        values = parts[0].values if len(parts) == 1 else parts[0].values - parts[1].values
        return ToyValues(values, sum(part.refits for part in parts))

    def __call__(self, blocks: Sequence[Block]) -> list[ToyValues]:
        return [self.block(block) for block in blocks]


class ToyRun:
    """The toys of one test statistic: where they come from, how they are fitted, their blocks."""

    def __init__(self, source: ToySource, fitters: tuple[Fitter, ...], blocks: list[Block]) -> None:
        self.source = source
        self.fitters = fitters
        self.blocks = blocks

    @property
    def n_toys(self) -> int:
        return sum(block.size for block in self.blocks)


# -- executors --------------------------------------------------------------------------------


def _distributed_client_class() -> Any:
    module = sys.modules.get("distributed")
    return None if module is None else getattr(module, "Client", None)


def check_executor(executor: Any) -> str | None:
    """Tell the kind of ``executor``: ``None``, ``"threads"``, ``"processes"`` or ``"distributed"``.

    Raises
    ------
    TypeError
        If ``executor`` is neither ``None``, a :class:`concurrent.futures.Executor`
        nor a ``distributed.Client``.
    """
    if executor is None:
        return None
    if isinstance(executor, concurrent.futures.ThreadPoolExecutor):
        return "threads"
    if isinstance(executor, concurrent.futures.Executor):
        return "processes"
    client = _distributed_client_class()
    if client is not None and isinstance(executor, client):
        return "distributed"
    msg = (
        "executor must be None, a concurrent.futures.Executor (ProcessPoolExecutor, "
        f"ThreadPoolExecutor) or a distributed.Client; got {type(executor).__name__}"
    )
    raise TypeError(msg)


def _workers(executor: Any, kind: str) -> int:
    if kind == "distributed":
        return max(1, int(sum(executor.nthreads().values())))
    # Both standard executors keep their size there; others may not.
    count = getattr(executor, "_max_workers", None)
    return max(1, int(count) if isinstance(count, int) else (os.cpu_count() or 1))


def _run_pickled(payload: bytes, blocks: Sequence[Block]) -> list[ToyValues]:
    """Run a task of a process executor: the job arrives pickled once, as bytes."""
    job = pickle.loads(payload)  # bytes pickled by this very module
    return job(blocks)  # type: ignore[no-any-return]


def _run_job(job: BlockJob, blocks: Sequence[Block]) -> list[ToyValues]:
    """Run a task of a thread executor or a Dask cluster."""
    return job(blocks)


def _submitter(executor: Any, kind: str, job: BlockJob) -> Callable[[list[Block]], Any]:
    if kind == "distributed":
        # Broadcast: every worker holds the job (the model, about 1 MB with 100
        # variations) before its first task. Scattered to one worker only, the others
        # fetch it from that one while it computes, and a worker busy with fits (GIL
        # held) serves it slowly: 2 workers were then 1.4x, not 1.7x, as fast as 1.
        (remote,) = executor.scatter([job], hash=False, broadcast=True)
        return lambda blocks: executor.submit(_run_job, remote, blocks, pure=False)
    if kind == "processes":
        data = pickle.dumps(job, protocol=5)
        return lambda blocks: executor.submit(_run_pickled, data, blocks)
    return lambda blocks: executor.submit(_run_job, job, blocks)


def _wait_first(pending: list[Any], kind: str) -> Iterable[Any]:
    if kind == "distributed":
        import distributed

        # distributed.wait is unannotated
        done: Iterable[Any] = distributed.wait(pending, return_when="FIRST_COMPLETED").done  # type: ignore[no-untyped-call]
        return done
    return concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED).done


def _on_executor(
    executor: Any,
    kind: str,
    jobs: list[tuple[BlockJob, list[Block]]],
    bar: Any,
) -> list[list[ToyValues]]:
    """Run every job's blocks on the executor; the results per job, in block order."""
    workers = _workers(executor, kind)
    total_blocks = sum(len(blocks) for _, blocks in jobs)
    per_task = max(1, math.ceil(total_blocks / (_TASKS_PER_WORKER * workers)))
    tasks: list[tuple[int, list[Block]]] = []
    submitters = []
    for number, (job, blocks) in enumerate(jobs):
        submitters.append(_submitter(executor, kind, job))
        tasks += [(number, blocks[i : i + per_task]) for i in range(0, len(blocks), per_task)]
    results: list[list[ToyValues] | None] = [None] * len(tasks)
    pending: dict[Any, int] = {}
    limit = max(2, _IN_FLIGHT_PER_WORKER * workers)
    following = 0
    try:
        while following < len(tasks) or pending:
            while following < len(tasks) and len(pending) < limit:
                number, blocks = tasks[following]
                pending[submitters[number](blocks)] = following
                following += 1
            for future in _wait_first(list(pending), kind):
                index = pending.pop(future)
                results[index] = list(future.result())
                bar.update(sum(block.size for block in tasks[index][1]))
    finally:
        for future in pending:
            future.cancel()
    per_job: list[list[ToyValues]] = [[] for _ in jobs]
    for (number, _), result in zip(tasks, results, strict=True):
        per_job[number] += result or []
    return per_job


# -- the mapper ----------------------------------------------------------------------------------


def _is_future(obj: Any) -> bool:
    if isinstance(obj, concurrent.futures.Future):
        return True
    return all(callable(getattr(obj, name, None)) for name in ("result", "done", "cancel"))


def _mapped(
    mapper: Any, job: Any, items: Any, sizes: list[int], weight: float, bar: Any
) -> list[Any]:
    """``list(mapper(job, items))``, refusing futures, the bar updated per result."""
    out: list[Any] = []
    results = mapper(job, items)
    for size, result in zip(sizes, results, strict=False):
        if _is_future(result):
            _cancel(result, results)
            msg = (
                f"remu.likelihood.mapper returned a future ({type(result).__module__}."
                f"{type(result).__name__}) instead of a result: a mapper must return the "
                "results themselves, as map and multiprocess.Pool.map do (client.map of "
                "distributed returns futures). To run the toys on a distributed.Client or a "
                "concurrent.futures executor, pass it to the p-value method instead: "
                "tester.max_likelihood_p_value(N=..., executor=client)"
            )
            raise TypeError(msg)
        out.append(result)
        bar.update(size * weight)
    if len(out) != len(sizes):
        msg = f"remu.likelihood.mapper returned {len(out)} results for {len(sizes)} items"
        raise ValueError(msg)
    return out


def _cancel(first: Any, results: Any) -> None:
    """Cancel the futures a mapper started (best effort: they compute nothing we use)."""
    for future in [first, *(results if isinstance(results, list) else [])]:
        if _is_future(future):
            with contextlib.suppress(Exception):  # cancelling is a courtesy
                future.cancel()


def _values(results: list[Any]) -> ToyValues:
    if results and isinstance(results[0], ToyValues):
        return ToyValues(
            np.concatenate([np.asarray(r.values, dtype=float) for r in results]),
            sum(r.refits for r in results),
        )
    return ToyValues(np.asarray(results, dtype=float), 0)


class _Counter:
    """Whole toys for the bar when a toy's two fits (H0, H1) count half each."""

    def __init__(self, bar: Any) -> None:
        self.bar = bar
        self.done = 0.0
        self.shown = 0

    def update(self, n: float) -> None:
        self.done += n
        whole = round(self.done) if abs(self.done - round(self.done)) < 1e-9 else int(self.done)
        if whole > self.shown:
            self.bar.update(whole - self.shown)
            self.shown = whole


def _with_mapper(job: BlockJob, run: ToyRun, mapper: Any, bar: Any) -> ToyValues:
    """Run the toys of ``run`` in the calling process, fits through ``mapper``."""
    bar = _Counter(bar)
    fitters = job.fitters
    blocks = run.blocks
    if not any(fitter.mapped for fitter in fitters):
        parts = []
        for block in blocks:
            parts.append(job.block(block))
            bar.update(block.size)
        return _values(parts)
    with np.errstate(**job.errstate):
        lazy = len(fitters) == 1 and mapper is builtins.map
        drawn: Iterable[Any] = (job.source.draw(block) for block in blocks)
        counts = drawn if lazy else list(drawn)
        h0, h1 = fitters if len(fitters) == 2 else (None, None)
        if isinstance(h0, PerToyFitter) and isinstance(h1, PerToyFitter):
            # Neither hypothesis fits toys at once: one mapped job fits a toy under both.
            paired = [
                (a, s0, s1)
                for (a, s0), (_, s1) in zip(
                    h0.items(blocks, counts, 1), h1.items(blocks, counts, 2), strict=True
                )
            ]
            sizes = PerToyFitter.sizes(blocks)
            ratios = _mapped(mapper, PerToyRatio(h0, h1), paired, sizes, 1.0, bar)
            return _values(ratios)
        parts = []
        for stream, fitter in enumerate(fitters, start=1):
            weight = 1.0 / len(fitters)
            if isinstance(fitter, Evaluator):
                values = [
                    fitter.fit_block(c, child(b.seed, stream))
                    for b, c in zip(blocks, counts, strict=True)
                ]
                bar.update(run.n_toys * weight)
                parts.append(_values(values))
                continue
            items: Any = fitter.items(blocks, counts, stream)
            if mapper is not builtins.map:
                items = list(items)  # ReMU's mappers get a list
            parts.append(_values(_mapped(mapper, fitter, items, fitter.sizes(blocks), weight, bar)))
    if len(parts) == 1:
        return parts[0]
    return ToyValues(parts[0].values - parts[1].values, parts[0].refits + parts[1].refits)


def _canonical(job: BlockJob, keep: Sequence[Any]) -> BlockJob:
    """Return an unpickled copy of the job, sharing the objects in ``keep`` (the maximizer).

    The maximizer stays the very object (a stateful maximizer in this process sees
    its fits, as with ReMU); everything else -- calculators, predictors and the
    engine's arrays -- is copied as a worker process would receive it. A job that
    does not pickle (e.g. a predictor holding a lambda) runs as it is: the builtin
    ``map`` needs no pickling, and a process executor reports the problem itself.
    """
    kept = {id(obj): obj for obj in keep}

    class _Keeping(pickle.Pickler):
        def persistent_id(self, obj: Any) -> Any:
            return id(obj) if id(obj) in kept else None

    class _Restoring(pickle.Unpickler):
        def persistent_load(self, pid: Any) -> Any:
            return kept[pid]

    buffer = io.BytesIO()
    try:
        _Keeping(buffer, protocol=5).dump(job)
    except (pickle.PicklingError, TypeError, AttributeError):
        return job
    buffer.seek(0)
    return _Restoring(buffer).load()  # type: ignore[no-any-return]


def run_toys(
    runs: list[ToyRun], *, executor: Any, mapper: Any, bar: Any, keep: Sequence[Any] = ()
) -> list[ToyValues]:
    """Compute the toys' statistics of every run: on the executor, or here and through ``mapper``.

    Parameters
    ----------
    runs : list of ToyRun
    executor : None, concurrent.futures.Executor or distributed.Client
    mapper : callable
        ``remu.likelihood.mapper`` (used without an executor).
    bar : progress bar
        Updated by the number of toys done.
    keep : sequence, optional
        Objects the jobs share with the caller instead of copies (the maximizer).

    Returns
    -------
    list of ToyValues
        Per run: the statistic of every toy, shape ``(N,)``, and the number of
        toys re-fitted without the engine.
    """
    kind = check_executor(executor)
    errstate = np.geterr()
    jobs = [_canonical(BlockJob(run.source, run.fitters, errstate), keep) for run in runs]
    if kind is None:
        return [_with_mapper(job, run, mapper, bar) for job, run in zip(jobs, runs, strict=True)]
    per_job = _on_executor(
        executor, kind, [(job, run.blocks) for job, run in zip(jobs, runs, strict=True)], bar
    )
    return [_values(results) for results in per_job]
