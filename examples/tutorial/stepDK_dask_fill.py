"""Step DK — fill the response matrix on a Dask cluster, from Parquet partitions.

Monte Carlo samples of real analyses are too large for one process: many files,
10^8 events and more. remu fills binnings and response matrices from Dask
collections where they live: every partition is binned on the worker that reads
it, and only the histograms' values, entries and sums of squared weights travel
back to be added up.

1. Write the Monte Carlo of step 00 (models A and B, reconstructed events and the
   full truth samples) as Parquet files, several partitions per sample.
2. Start a local Dask cluster of two worker processes and fill step 01's
   optimised response matrix from those files, as ``dask.dataframe`` collections.
3. Check that it equals the matrix filled in memory from the CSV files.

Pointing the same code at a real cluster only changes the client: see
``connect`` below.

Run inside ``<output>/DK``; reads ``../00/*.txt`` and ``../01/*.yml``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import tutorial_common as common

from remu import binning, migration

#: Parquet files written per sample
PARTITIONS = 4
SAMPLES = ("modelA_data", "modelA_truth", "modelB_data", "modelB_truth")


def write_parquet(stem: str, partitions: int = PARTITIONS) -> Path:
    """Split ``../00/<stem>.txt`` into Parquet files ``<stem>/part-<k>.parquet``."""
    import pandas as pd

    frame = pd.read_csv(f"../00/{stem}.txt", skipinitialspace=True)
    folder = Path(stem)
    folder.mkdir(exist_ok=True)
    for k, part in enumerate(np.array_split(np.arange(len(frame)), partitions)):
        frame.iloc[part].to_parquet(folder / f"part-{k}.parquet", engine="pyarrow", index=False)
    return folder


def load(filename: str) -> binning.Binning:
    with open(filename) as f:
        return binning.yaml.full_load(f)


def new_matrix() -> migration.ResponseMatrix:
    return migration.ResponseMatrix(
        load("../01/reco-binning.yml"), load("../01/optimised-truth-binning.yml")
    )


def connect() -> tuple[Any, Any]:
    """A client of a local cluster: two worker processes with one thread each.

    On a real cluster, start a scheduler and workers there (``dask scheduler``,
    ``dask worker tcp://host:8786``, or dask-jobqueue's ``SLURMCluster`` and
    friends on a batch system) and connect to it instead::

        from distributed import Client
        client = Client("tcp://host:8786")

    Nothing else changes: a client makes itself the default scheduler, so the
    ``fill`` calls below run on its workers. The files must then be readable by
    the workers (a shared file system, or an XRootD/S3 URL in ``read_parquet``).
    """
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": ":0"},
    )
    return cluster, Client(cluster)


def fill_with_dask(folders: dict[str, Path]) -> tuple[migration.ResponseMatrix, dict[str, int]]:
    """Both models' Monte Carlo into one matrix, filled on the cluster (and the partitions)."""
    import dask
    import dask.dataframe as dd

    frames = {stem: dd.read_parquet(str(folder)) for stem, folder in folders.items()}
    for stem, frame in frames.items():
        print(f"{stem}: {frame.npartitions} partitions, columns {list(frame.columns)}")
    resp_a, resp_b = new_matrix(), new_matrix()
    # Lazy fills (compute=False) of both models, computed together in one pass over
    # the files: each result is a new ResponseMatrix holding only those events.
    lazy_a = resp_a.fill(frames["modelA_data"], compute=False)
    lazy_b = resp_b.fill(frames["modelB_data"], compute=False)
    filled_a, filled_b = dask.compute(lazy_a, lazy_b)
    # The full truth samples fill up the truth bins (eager, like an in-memory fill).
    filled_a.fill_up_truth(frames["modelA_truth"])
    filled_b.fill_up_truth(frames["modelB_truth"])
    return filled_a + filled_b, {stem: int(f.npartitions) for stem, f in frames.items()}


def fill_in_memory() -> migration.ResponseMatrix:
    """The same matrix from the CSV files, in this process (as in step 01)."""
    resp_a, resp_b = new_matrix(), new_matrix()
    resp_a.fill_from_csv_file("../00/modelA_data.txt")
    resp_a.fill_up_truth_from_csv_file("../00/modelA_truth.txt")
    resp_b.fill_from_csv_file("../00/modelB_data.txt")
    resp_b.fill_up_truth_from_csv_file("../00/modelB_truth.txt")
    return resp_a + resp_b


def compare(ours: migration.ResponseMatrix, reference: migration.ResponseMatrix) -> dict:
    """Entries must agree exactly, values and sums of squared weights to rounding."""
    entries_equal = True
    worst = 0.0
    for name in ("truth", "reco", "response"):
        for what in ("entries", "values", "sumw2"):
            a = getattr(ours, f"get_{name}_{what}_as_ndarray")()
            b = getattr(reference, f"get_{name}_{what}_as_ndarray")()
            if what == "entries":
                entries_equal &= bool(np.array_equal(a, b))
            else:
                scale = np.maximum(np.abs(b), 1.0)
                worst = max(worst, float(np.max(np.abs(a - b) / scale)))
    return {"entries_equal": entries_equal, "max_relative_difference": worst}


# Every step's main takes the run's settings; this step needs none of them.
def main(settings: common.Settings) -> dict[str, Any]:  # noqa: ARG001
    folders = {stem: write_parquet(stem) for stem in SAMPLES}
    cluster, client = connect()
    try:
        workers = len(client.scheduler_info()["workers"])
        print(f"Dask cluster: {workers} worker processes (scheduler {client.scheduler.address})")
        print("To use a real cluster instead: client = distributed.Client('tcp://host:8786')")
        ours, partitions = fill_with_dask(folders)
    finally:
        client.close()
        cluster.close()
    reference = fill_in_memory()
    check = compare(ours, reference)
    print(f"filled on the cluster == filled in memory: {check}")
    if not check["entries_equal"] or check["max_relative_difference"] > 1e-9:
        msg = f"the Dask fill differs from the in-memory fill: {check}"
        raise RuntimeError(msg)
    ours.export("response_matrix.npz")
    entries = ours.get_truth_entries_as_ndarray()
    return {
        "workers": workers,
        "partitions": partitions,
        "truth_entries": int(entries.sum()),
        "reco_entries": int(ours.get_reco_entries_as_ndarray().sum()),
        "truth_bins": int(ours.truth_binning.data_size),
        **check,
    }


if __name__ == "__main__":
    common.run_step("DK", main, __doc__.splitlines()[0])
