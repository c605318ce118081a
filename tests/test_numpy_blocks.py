"""The numpy backend works through an array a block at a time (~131072 elements, ``_BLOCK``), and picks its way
through a block by what the block holds (a common branch on every element or gathered, a table per gene or a loop,
the convention branches or not). None of it may change a single bit of an element's value."""

from __future__ import annotations

import numpy as np
import pytest

from derive.spec import spec

#: Kernels with a dense branch, per-gene tables or both (the block-wise bookkeeping that could change a bit).
KERNELS = ("nb_logpmf", "nb_logpmf_logmu", "nb_nll_grad_theta", "nb_nll_fused", "nb_p_zero")


def _inputs(rng: np.random.Generator, shape: tuple[int, ...]) -> dict[str, np.ndarray]:
    """NB-like data, mostly zeros in the first half and dense counts in the second, with invalid and edge values
    in a few places of the last block only."""
    n = int(np.prod(shape))
    mu = np.exp(rng.uniform(np.log(0.01), np.log(1000.0), n))
    theta = np.exp(rng.uniform(np.log(0.05), np.log(100.0), n))
    x = rng.negative_binomial(theta, theta / (theta + mu)).astype(np.float64)
    x[: n // 2][rng.random(n // 2) < 0.9] = 0.0
    for position, (name, value) in zip(rng.choice(np.arange(n - 40000, n), 6, replace=False),
                                        [("mu", np.nan), ("x", -3.0), ("x", 2.5), ("theta", np.inf), ("mu", 0.0),
                                         ("theta", 0.0)], strict=True):
        {"x": x, "mu": mu, "theta": theta}[name][position] = value
    arrays = {"x": x, "mu": mu, "theta": theta}
    with np.errstate(all="ignore"):
        arrays |= {"log_mu": np.log(mu), "log_theta": np.log(theta)}
    return {k: v.reshape(shape) for k, v in arrays.items()}


def _args(kernel: str, data: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
    return tuple(data[name] for name in spec(kernel).input_names)


@pytest.mark.parametrize("layout", ["rows", "one long row", "theta per gene"])
@pytest.mark.parametrize("kernel", KERNELS)
def test_results_do_not_depend_on_blocks(numpy_kernels, kernel, layout):
    block = numpy_kernels._BLOCK
    n = 5 * block // 2
    shape = (1, n) if layout == "one long row" else (5, n // 5)
    data = _inputs(np.random.default_rng(7), shape)
    if layout == "theta per gene":  # one value per column: the kernels' per-gene tables (the pieces below have none)
        data["theta"] = np.exp(np.random.default_rng(8).uniform(np.log(0.05), np.log(100.0), shape[-1]))
        data["log_theta"] = np.log(data["theta"])
    fn = getattr(numpy_kernels, kernel)
    whole = fn(*_args(kernel, data))
    whole = whole if isinstance(whole, tuple) else (whole,)
    flat = {k: np.broadcast_to(v, shape).reshape(-1) for k, v in data.items()}
    pieces = [fn(*_args(kernel, {k: v[i:i + 999] for k, v in flat.items()})) for i in range(0, n, 999)]
    pieces = [p if isinstance(p, tuple) else (p,) for p in pieces]
    for j, got in enumerate(whole):
        expected = np.concatenate([p[j] for p in pieces])
        # The same bits: an element's value must not depend on the other elements of its array.
        np.testing.assert_array_equal(got.reshape(-1), expected, err_msg=kernel)
