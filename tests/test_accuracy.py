"""Issue 4's accuracy goal, per case, for every backend and every kernel, against the mpmath oracle.

The kernels, their arguments and outputs come from the registry (:func:`derive.spec.kernel_specs`), but the goal
and its allowance are written out here rather than taken from it or from derive.accuracy, so a mistake in the
registry or the harness cannot loosen the test: relative error <= goal + cond * 2^-53, where cond is the oracle's
condition number (rounded log inputs, exp() of a large argument; 0 for exact inputs), and no NaN/inf where the exact
value is finite.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import loaded

from derive import accuracy, cli, oracle
from derive.kernels import backends
from derive.spec import kernel_specs

SEED = 20240604
CASES = 100
U = 2.0**-53
LOG_PMF_GOAL = 1e-14  # nb_logpmf, nb_logpmf_logmu, and the other log-densities / values
GRADIENT_GOAL = 1e-13  # every gradient kernel and nb_p_zero

SPECS = {s.name: s for s in kernel_specs()}
OUTPUTS = [(s.name, k) for s in SPECS.values() for k in range(len(s.outputs))]
OUTPUT_IDS = [SPECS[name].labels[k] for name, k in OUTPUTS]


def issue_goal(name: str, output: int) -> float:
    """Issue 4: 1e-13 for gradients (the outputs the registry says are derivatives) and P(x = 0), 1e-14 else."""
    gradient = any(g.output == output for g in SPECS[name].gradients)
    return GRADIENT_GOAL if gradient or name == "nb_p_zero" else LOG_PMF_GOAL


@pytest.fixture(scope="module")
def samples() -> dict[str, dict[str, np.ndarray]]:
    return accuracy.sample_all(SEED, CASES)


@pytest.fixture(scope="module")
def exact(samples) -> dict[tuple[str, str], tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]]:
    """(regime, kernel) -> (exact values, condition numbers), one array per output."""
    out = {}
    for regime, sample in samples.items():
        for name, spec in SPECS.items():
            values, conds = oracle.reference(name, *(sample[a] for a in spec.input_names))
            out[regime, name] = (values, conds) if len(spec.outputs) > 1 else ((values,), (conds,))
    return out


@pytest.fixture(scope="module", params=backends())
def kernels(request):
    return loaded(request.param)


def test_the_registry_records_issue_4s_goals():
    for name, output in OUTPUTS:
        assert SPECS[name].goals[output] == issue_goal(name, output), SPECS[name].labels[output]


def test_sampled_regimes_cover_the_issue_ranges(samples):
    assert list(samples) == ["typical", "sparse", "poisson", "tiny_mu", "tiny_theta", "huge", "mode"]
    ranges = {  # (x, mu, theta) bounds from issue 4
        "typical": ((0, 1000), (1e-2, 1e3), (0.1, 100)),
        "sparse": ((0, 20), (1e-3, 5), (0.05, 50)),
        "poisson": ((0, 100), (0.1, 100), (1e6, 1e13)),
        "tiny_mu": ((0, 5), (1e-12, 1e-4), (1e-2, 100)),
        "tiny_theta": ((0, 1000), (0.1, 1000), (1e-9, 1e-3)),
        "huge": ((1e3, 1e7), (1e3, 1e7), (0.1, 1000)),
        "mode": ((0.96e4, 1.04e8), (1e4, 1e8), (10, 1e6)),
    }
    for regime, sample in samples.items():
        assert all(v.shape == (CASES,) and v.dtype == np.float64 for v in sample.values())
        np.testing.assert_array_equal(sample["x"], np.rint(sample["x"]))
        for key, (lo, hi) in zip(("x", "mu", "theta"), ranges[regime], strict=True):
            assert lo <= sample[key].min() and sample[key].max() <= hi, (regime, key)
        np.testing.assert_array_equal(sample["log_mu"], np.log(sample["mu"]))
    mode = samples["mode"]
    assert np.all(np.abs(mode["x"] / mode["mu"] - 1) <= 0.031)


def test_sampling_is_reproducible_from_the_seed():
    a, b = accuracy.sample_all(7, 4), accuracy.sample_all(7, 4)
    for regime in a:
        for key in a[regime]:
            np.testing.assert_array_equal(a[regime][key], b[regime][key])
    assert not np.array_equal(accuracy.sample_all(8, 4)["typical"]["mu"], a["typical"]["mu"])


def test_relative_error_counts_nonfinite_results_as_infinitely_wrong():
    exact = np.array([1.0, 2.0, 0.0, 1e-320, 4.0])
    got = np.array([1.0 + 2**-52, np.nan, 0.0, 0.0, np.inf])
    err = accuracy.relative_error(got, exact)
    assert err[0] == 2**-52 and err[2] == 0.0
    assert np.isinf(err[1]) and np.isinf(err[4])
    assert err[3] < 1e-11  # an underflowed exact value is measured against the smallest normal number


def test_the_comparators_show_the_known_failures(samples, exact):
    """The harness must see what is known to go wrong: scvi's eps at tiny mu, lambdify's factorial overflow."""
    tiny = samples["tiny_mu"]
    scvi = accuracy.comparator_logpmf("scvi", tiny["x"], tiny["mu"], tiny["theta"])
    assert np.max(accuracy.relative_error(scvi, exact["tiny_mu", "nb_logpmf"][0][0])) > 1e-3
    typical = samples["typical"]
    lam = accuracy.comparator_logpmf("lambdify", typical["x"], typical["mu"], typical["theta"])
    assert not np.all(np.isfinite(lam[typical["x"] > 170]))
    scipy = accuracy.comparator_logpmf("scipy", typical["x"], typical["mu"], typical["theta"])
    assert np.max(accuracy.relative_error(scipy, exact["typical", "nb_logpmf"][0][0])) < 1e-11


@pytest.mark.parametrize("regime", list(accuracy.REGIMES))
@pytest.mark.parametrize(("name", "output"), OUTPUTS, ids=OUTPUT_IDS)
def test_kernel_meets_the_goal_in_every_case(kernels, samples, exact, name, output, regime):
    spec = SPECS[name]
    sample = samples[regime]
    with np.errstate(all="ignore"):
        got = getattr(kernels, name)(*(sample[a] for a in spec.input_names))
    got = np.broadcast_to(np.asarray(got if len(spec.outputs) == 1 else got[output], dtype=np.float64), (CASES,))
    want = exact[regime, name][0][output]
    cond = exact[regime, name][1][output]

    allowance = issue_goal(name, output) + cond * U
    with np.errstate(all="ignore"):
        err = np.where(got == want, 0.0, np.abs(got - want) / np.maximum(np.abs(want), np.finfo(float).tiny))
    bad = ~np.isfinite(got) & np.isfinite(want) | ~(err <= allowance)
    if bad.any():
        worst = np.argsort(-np.where(bad, err / allowance, 0))[: min(3, int(bad.sum()))]
        detail = "\n".join(
            "  " + " ".join(f"{a}={float(sample[a][i])!r}" for a in ("x", "mu", "theta", "log_mu", "log_theta"))
            + f": got {float(got[i])!r}, exact {float(want[i])!r}, rel err {err[i]:.2e} > allowance {allowance[i]:.2e}"
            for i in worst)
        pytest.fail(f"{OUTPUT_IDS[OUTPUTS.index((name, output))]} misses the goal in {int(bad.sum())}/{CASES} cases "
                    f"of {regime}:\n{detail}")


def test_derive_accuracy_runs_and_prints_the_table(capsys, tmp_path):
    target = tmp_path / "accuracy.md"
    status = cli.main(["accuracy", "--cases", "5", "--seed", "1", "--write", str(target)])
    out = capsys.readouterr().out
    assert status in (0, 1)
    assert "seed 1, 5 cases per regime" in out
    for column in ("scipy", "lambdify", "scvi"):
        assert column in out
    for regime in accuracy.REGIMES.values():
        assert regime.label in out
    markdown = target.read_text()
    assert "| regime | scipy | lambdify | scvi" in markdown
    assert "Seed 1, 5 cases per regime" in markdown
