"""Worked examples of remu.binning and of ReMU's cross-section example (example 06).

Numbering and access of subbinnings, shared storage, filling, products, linear and
rectilinear binnings, adjacency and the array accessors.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from extras import require
from numeric_asserts import assert_allclose
from remu import binning as bn


def test_subbinning_numbering_and_access():
    top = bn.LinearBinning(
        "kind",
        [-0.5, 0.5, 1.5, 2.5],
        subbinnings={
            0: bn.LinearBinning("x", [0, 1, 2, 3]),
            1: bn.RectilinearBinning(["x", "y"], [[0, 1, 2], [0, 5, 10]]),
        },
    )
    assert (top.nbins, top.data_size) == (3, 8)
    assert [top.get_bin_data_index(i) for i in range(3)] == [0, 3, 7]
    assert [top.get_data_bin_index(d) for d in range(8)] == [0, 0, 0, 1, 1, 1, 1, 2]
    top.fill([{"kind": 0, "x": 2.5}, {"kind": 1, "x": 0.5, "y": 7}, {"kind": 2}], [1.0, 2.0, 3.0])
    assert_array_equal(top.get_values_as_ndarray(), [0, 0, 1, 0, 2, 0, 0, 3])
    assert_array_equal(top.subbinnings[1].get_values_as_ndarray(), [0, 2, 0, 0])
    flat = top.marginalize_subbinnings()
    assert type(flat) is bn.LinearBinning
    assert not flat.subbinnings
    assert_array_equal(flat.get_values_as_ndarray(), [1, 2, 3])
    back = flat.insert_subbinning(1, top.subbinnings[1].clone())
    assert_array_equal(back.get_values_as_ndarray(), [1, 0, 2, 0, 0, 3])


def test_subbinning_arithmetic_example():
    lb = bn.LinearBinning(
        "x",
        [0, 1, 2, 3, 4],
        subbinnings={1: bn.LinearBinning("y", [0, 1, 2, 3]), 2: bn.LinearBinning("z", [0, 1, 2])},
    )
    assert lb.data_size == 7
    assert [lb.get_bin_data_index(i) for i in range(4)] == [0, 1, 4, 6]
    assert [lb.get_data_bin_index(d) for d in range(7)] == [0, 1, 1, 1, 2, 2, 3]


def test_nested_iter_subbins():
    def pair():
        return (
            bn.RectangularBin(["x", "y"], [(0, 1), (5, np.inf)]),
            bn.RectangularBin(["x", "y"], [(1, 2), (5, np.inf)]),
        )

    binning = bn.Binning(pair())
    binning1 = bn.Binning(pair(), subbinnings={0: binning})
    binning2 = bn.Binning(pair(), subbinnings={0: binning1})
    assert binning2.data_size == 4
    b0, b1 = pair()
    expected = [(b0, b0, b0), (b0, b0, b1), (b0, b1), (b1,)]
    assert list(binning2.iter_subbins()) == expected
    event = {"x": 1, "y": 10}
    assert binning.get_event_data_index(event) == 1
    assert binning1.get_event_data_index(event) == 2
    assert binning2.get_event_data_index(event) == 3


def test_shared_storage_bins_and_subbinnings():
    b0 = bn.RectangularBin(["x"], [(0, 1)])
    b1 = bn.RectangularBin(["x"], [(1, 2)])
    binning = bn.Binning([b0, b1])
    assert binning.bins[0] is b0
    binning.fill({"x": 0.5}, weight=2.0)
    assert b0.value == 2.0
    assert b0.entries == 1
    b1.fill(3.0)
    assert_array_equal(binning.get_values_as_ndarray(), [2.0, 3.0])
    lb = bn.LinearBinning("x", [0, 1, 2], subbinnings={1: bn.LinearBinning("y", [0, 1, 2])})
    lb.subbinnings[1].fill({"y": 1.5})
    assert_array_equal(lb.get_entries_as_ndarray(), [0, 0, 1])
    # as in ReMU, the bin object of a bin with a subbinning is the first element of
    # the subbinning's block: filling it adds there
    lb.bins[1].fill()
    assert_array_equal(lb.get_entries_as_ndarray(), [0, 1, 1])
    arr = np.zeros(3)
    lb2 = bn.LinearBinning("x", [0, 1, 2, 3], value_array=arr)
    lb2.fill({"x": 2.5})
    assert arr[2] == 1.0  # arrays are used without copying


def test_fill_input_kinds():
    lb = bn.LinearBinning("x", [0, 1, 2])
    lb.fill({"x": 0.5})
    lb.fill([{"x": 0.5}, {"x": 1.5}], weight=[2.0, 3.0])
    lb.fill(np.array([(0.2,), (7.0,)], dtype=[("x", float)]))
    lb.fill([{"t": 1.2}], rename={"t": "x"})
    assert_array_equal(lb.get_values_as_ndarray(), [4.0, 4.0])
    assert_array_equal(lb.get_entries_as_ndarray(), [3, 2])
    assert_array_equal(lb.get_sumw2_as_ndarray(), [6.0, 10.0])


def test_response_product():
    reco = bn.LinearBinning("reco_x", [0, 1, 2])
    true = bn.LinearBinning("true_x", [0, 1, 2])
    resp = bn.CartesianProductBinning([reco.clone(dummy=True), true.clone(dummy=True)])
    assert resp.bins_shape == (2, 2)
    resp.fill([{"reco_x": 0.5, "true_x": 1.5}, {"reco_x": 1.5, "true_x": 1.5}])
    assert_array_equal(resp.get_entries_as_ndarray(shape=resp.bins_shape), [[0, 1], [0, 1]])
    proj = resp.project(1)
    assert type(proj) is bn.LinearBinning
    assert_array_equal(proj.get_entries_as_ndarray(), [0, 2])
    assert resp.bins[1].data_indices == (0, 1)
    assert [b.edges for b in resp.bins[1].get_marginal_bins()] == [((0.0, 1.0),), ((1.0, 2.0),)]


def test_edge_inclusion():
    lo = bn.LinearBinning("x", [0, 1, 2])
    hi = bn.LinearBinning("x", [0, 1, 2], include_upper=True)
    assert [lo.get_event_bin_index({"x": v}) for v in (0, 1, 2)] == [0, 1, None]
    assert [hi.get_event_bin_index({"x": v}) for v in (0, 1, 2)] == [None, 0, 1]
    assert lo.get_event_bin_index({"x": np.nan}) is None
    inf = bn.LinearBinning("x", [-np.inf, 0, np.inf])
    assert inf.get_event_bin_index({"x": -np.inf}) == 0
    assert inf.get_event_bin_index({"x": np.inf}) is None
    inf_hi = bn.LinearBinning("x", [-np.inf, 0, np.inf], include_upper=True)
    assert inf_hi.get_event_bin_index({"x": -np.inf}) is None
    assert inf_hi.get_event_bin_index({"x": np.inf}) == 1


def test_pandas_and_structured():
    pd = require("pandas", "pandas")
    grid = bn.RectilinearBinning(["x", "y"], [[0, 1, 2], [0, 1, 2]])
    grid.fill(pd.DataFrame({"x": [0.5, 1.5], "b": [0.5, 1.5]}), rename={"b": "y"}, weight=2.0)
    grid.fill(np.array([(0.5, 1.5)], dtype=[("x", float), ("y", float)]))
    assert_array_equal(grid.get_values_as_ndarray(shape=(2, 2)), [[2, 1], [0, 2]])


def test_cartesian_numbering_with_subbinnings():
    x = bn.LinearBinning("x", [0, 1, 2], dummy=True)
    y = bn.LinearBinning("y", [0, 1, 2], subbinnings={0: bn.LinearBinning("z", [0, 1, 2])})
    cp = bn.CartesianProductBinning(
        [x, y.clone(dummy=True)], subbinnings={2: bn.LinearBinning("z", [0, 1, 2])}
    )
    assert (cp.bins_shape, cp.nbins, cp.data_size) == ((2, 3), 6, 7)
    assert [cp.get_bin_index_tuple(i) for i in range(6)] == [
        (0, 0),
        (0, 1),
        (0, 2),
        (1, 0),
        (1, 1),
        (1, 2),
    ]
    events = [
        (0, 0, 0),
        (0, 0, 1),
        (0, 1, 0),
        (0, 1, 1),
        (1, 0, 0),
        (1, 0, 1),
        (1, 1, 0),
        (1, 1, 1),
    ]
    indices = [cp.get_event_data_index(dict(zip("xyz", e, strict=True))) for e in events]
    assert indices == [0, 1, 2, 3, 4, 5, 6, 6]
    cp.fill([dict(zip("xyz", e, strict=True)) for e in events])
    assert_array_equal(cp.get_entries_as_ndarray(), np.bincount(indices, minlength=7))
    adj = cp.get_adjacent_bin_indices()
    assert [a.tolist() for a in adj[:3]] == [[1, 3], [0, 4], [5]]
    data_adj = cp.get_adjacent_data_indices()
    assert data_adj[0].tolist() == [1, 4]
    assert data_adj[2].tolist() == [3]
    assert data_adj[6].tolist() == []


def test_marginalize_and_project():
    bx = bn.LinearBinning("x", [0, 1, 2], dummy=True)
    by = bn.LinearBinning("y", [0, 1, 2, 3], dummy=True)
    cp = bn.CartesianProductBinning([bx, by])
    cp.set_values_from_ndarray(np.arange(6.0))
    m = cp.marginalize(0)
    assert type(m) is bn.CartesianProductBinning
    assert_array_equal(m.get_values_as_ndarray(), [3, 5, 7])
    p = cp.project(1)
    assert type(p) is bn.LinearBinning
    assert p.variable == "y"
    assert_array_equal(p.get_values_as_ndarray(), [3, 5, 7])
    assert_array_equal(cp.project([0]).get_values_as_ndarray(), [3, 12])
    assert_array_equal(cp.project(np.int64(0)).get_values_as_ndarray(), [3, 12])
    total = cp.marginalize([0, 1])
    assert total.nbins == 1
    assert total.get_values_as_ndarray().tolist() == [15.0]
    assert_array_equal(cp.marginalize(1, reduction_function=np.max).get_values_as_ndarray(), [2, 5])
    with pytest.raises(ValueError):
        cp.project([0, 0])


def test_rectilinear_numbering_and_projection():
    rl = bn.RectilinearBinning(["x", "y"], [[0, 1, 2], [-10, 0, 10, 20, np.inf]])
    assert rl.bins_shape == (2, 4)
    assert rl.get_tuple_bin_index((1, 2)) == 6
    assert rl.get_event_bin_index({"x": 0, "y": -10}) == 0
    assert rl.get_event_bin_index({"x": 0, "y": 0}) == 1
    assert rl.get_event_bin_index({"x": 1, "y": -10}) == 4
    assert rl.get_bin_index_tuple(8) == (None, None)
    assert rl.get_bin_index_tuple(-1) == (None, None)
    hi = bn.RectilinearBinning(
        ["x", "y"], [[0, 1, 2], [-10, 0, 10, 20, np.inf]], include_upper=True
    )
    assert hi.get_event_bin_index({"x": 2, "y": 30}) == 7

    rl3 = bn.RectilinearBinning(
        ["x", "y", "z"], [[0, 1, 2], [-10, 0, 10, 20, float("inf")], [0, 1, 2]]
    )
    rl3.fill({"x": 0, "y": 0, "z": 0})
    rl3.fill({"x": 0, "y": 0, "z": 1}, weight=2.0)
    xy = rl3.project(["x", "y"])
    assert xy == rl3.marginalize(["z"])
    assert xy.variables == ("x", "y")
    assert (xy.bins[1].value, xy.bins[1].entries) == (3.0, 2)
    y = rl3.project("y")
    assert type(y) is bn.LinearBinning
    assert_array_equal(y.get_values_as_ndarray(), [0, 3, 0, 0])
    assert_array_equal(rl3.project(1).get_values_as_ndarray(), [0, 3, 0, 0])


def test_rectilinear_slice_and_remove_edges():
    rl = bn.RectilinearBinning(["x", "y", "z"], [[0, 1, 2], [-10, 0, 10, 20, np.inf], [0, 1, 2]])
    rl.fill({"x": 0, "y": 10, "z": 0}, weight=2)
    rl.fill({"x": 1, "y": 10, "z": 1}, weight=1)
    rl.fill({"x": 0, "y": 0, "z": 0}, weight=2)
    s = rl.slice({"x": (0, 1), "y": (2, -1)})
    assert s.bins_shape == (1, 1, 2)
    assert s.get_values_as_ndarray().sum() == 2
    assert s.get_entries_as_ndarray().sum() == 1
    r = rl.remove_bin_edges({"x": [2], "y": [0, 2]})
    assert r.nbins == 4
    assert r.bins_shape == (1, 2, 2)
    assert r.get_values_as_ndarray().sum() == 4
    assert r.get_entries_as_ndarray().sum() == 2
    assert r.get_sumw2_as_ndarray().sum() == 8


def test_linear_remove_bin_edges_and_slice():
    lb = bn.LinearBinning("x", [0, 1, 2], subbinnings={0: bn.LinearBinning("y", [0, 1, 2])})
    lb.set_values_from_ndarray([1, 2, 5])
    assert lb.remove_bin_edges([1]).get_values_as_ndarray().tolist() == [8]
    assert lb.remove_bin_edges([0]).get_values_as_ndarray().tolist() == [5]
    assert lb.remove_bin_edges([2]).get_values_as_ndarray().tolist() == [3]
    lb4 = bn.LinearBinning("x", [0, 1, 2, 3, 4])
    lb4.set_values_from_ndarray([1, 2, 3, 4])
    sl = lb4.slice(0, 4, 2)
    assert sl.bin_edges.tolist() == [0, 2, 3]
    assert sl.get_values_as_ndarray().tolist() == [1, 3]
    assert lb4.slice(-2, None).get_values_as_ndarray().tolist() == [3, 4]
    with pytest.raises(IndexError):
        lb4.slice(2, 2)


def test_adjacency_linear():  # a one-bin binning has no neighbour (D24)
    lb = bn.LinearBinning("x", [0, 1, 2], subbinnings={0: bn.LinearBinning("y", [0, 1, 2])})
    assert [a.tolist() for a in lb.get_adjacent_bin_indices()] == [[1], [0]]
    assert [a.tolist() for a in lb.get_adjacent_data_indices()] == [[1], [0], []]
    assert [a.tolist() for a in bn.LinearBinning("x", [0, 1]).get_adjacent_bin_indices()] == [[]]


def test_get_set_arrays():
    rl = bn.RectilinearBinning(["x", "y"], [[0, 1, 2], [0, 1, 2, 3, 4]])
    rl.bins[5].fill([0.5, 0.5])
    assert rl.get_values_as_ndarray().shape == (8,)
    assert rl.get_values_as_ndarray((2, 4))[1, 1] == 1.0
    assert_array_equal(rl.get_entries_as_ndarray(indices=[5, 0]), [2, 0])
    assert rl.get_entries_as_ndarray(indices=5).shape == (1,)
    out = rl.get_values_as_ndarray()
    out[:] = 7
    assert rl.get_values_as_ndarray()[0] == 0  # a copy
    rl.set_values_from_ndarray(np.ones((2, 4)))
    assert rl.bins[3].value == 1.0
    rl.reset()
    assert rl.get_values_as_ndarray().sum() == 0
    assert rl.get_entries_as_ndarray().sum() == 0


def test_seed_example_06_structure(shared_data):
    with (shared_data / "upstream-examples/05/truth-binning.yml").open() as f:
        truth_binning = bn.yaml.full_load(f)
    with (shared_data / "upstream-examples/06/flux-binning.yml").open() as f:
        flux_binning = bn.yaml.full_load(f)
    bg_truth = truth_binning.subbinnings[1].clone()
    signal_truth = truth_binning.subbinnings[2].clone()
    bg_xsec = bn.CartesianProductBinning((bg_truth, flux_binning.clone()))
    signal_xsec = bn.CartesianProductBinning((signal_truth, flux_binning.clone()))
    n_flux = flux_binning.data_size
    assert (bg_truth.data_size, signal_truth.data_size, n_flux) == (48, 120, 9)
    assert (bg_xsec.data_size, signal_xsec.data_size) == (432, 1080)
    assert str(signal_xsec.bins[0].data_indices) == "(0, 0)"
    assert str(signal_xsec.bins[1].data_indices) == "(0, 1)"
    assert str(signal_xsec.bins[n_flux].data_indices) == "(1, 0)"
    truth_bin, flux_bin = bg_xsec.bins[0].get_marginal_bins()
    assert repr(truth_bin) == (
        "RectangularBin(include_upper=False, include_lower=True, variables=['true_x', "
        "'true_y'], edges=[[-inf, -0.5], [-inf, -0.25]], phasespace=PhaseSpace(variables="
        "{'true_x', 'true_y'}), value_array=array([0.]), entries_array=array([0]), "
        "sumw2_array=array([0.]))"
    )
    assert repr(flux_bin) == (
        "RectangularBin(include_upper=False, include_lower=True, variables=['E'], "
        "edges=[[0.0, 2.0]], phasespace=PhaseSpace(variables={'E'}), value_array="
        "array([0.]), entries_array=array([0]), sumw2_array=array([0.]))"
    )
    parameter = truth_binning.marginalize_subbinnings()
    parameter = parameter.insert_subbinning(1, bg_xsec)
    parameter = parameter.insert_subbinning(2, signal_xsec)
    assert parameter.subbinnings[2] is signal_xsec
    assert parameter.data_size == 1 + 432 + 1080
    assert parameter.get_bin_data_index(1) == 1
    signal_xsec.reset()
    signal_xsec.fill({"E": 8.0, "true_x": 0.0, "true_y": 0.0}, 100.0)
    assert signal_xsec.get_values_as_ndarray().sum() == 100.0
    # shared storage: the inserted product is a view of the parameter binning
    assert parameter.get_values_as_ndarray().sum() == 100.0


def test_all_shared_yaml_files_load(shared_data):
    files = sorted(shared_data.rglob("*.yml"))
    assert files
    for path in files:
        with path.open() as f:
            obj = bn.yaml.full_load(f)
        assert isinstance(obj, bn.Binning)
        assert obj.value_array.shape == (obj.data_size,)
        assert_allclose(obj.get_values_as_ndarray(), 0)
        assert bn.yaml.full_load(bn.yaml.dump(obj)) == obj
