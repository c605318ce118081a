"""What only the torch backend does: autograd through the derived gradient kernels (checked against finite
differences of the values), gradients summed to broadcast parameters' shapes, custom operators that
torch.compile(fullgraph=True) calls, dtypes and devices, and clear errors for what is not derived.

Its values are checked with every backend's (tests/test_kernels_properties.py, tests/test_accuracy.py,
tests/test_kernels_conventions.py); skipped, saying so, where torch is not installed.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the torch backend's tests need PyTorch (pip install 'nbderive[torch]')")

from derive import kernels  # noqa: E402
from derive.backends.torch.backward import backward  # noqa: E402
from derive.spec import kernel_specs, spec  # noqa: E402


@pytest.fixture(scope="module")
def nbt():
    return kernels.load("torch")


def _ordinary(name: str, n: int = 40, seed: int = 0) -> list:
    """Inputs where every output is smooth: counts 0..60, mu and theta 0.05..500, their logs, reals."""
    rng = np.random.default_rng(seed)
    draws = {"count": lambda: rng.integers(0, 60, n).astype(float),
             "positive": lambda: np.exp(rng.uniform(np.log(0.05), np.log(500.0), n)),
             "log": lambda: rng.uniform(np.log(0.05), np.log(500.0), n),
             "real": lambda: rng.normal(0.0, 3.0, n)}
    return [torch.tensor(draws[kind](), dtype=torch.float64) for kind in spec(name).kinds]


DIFFERENTIABLE = [(s.name, g.index) for s in kernel_specs() for g in backward(s) if not g.missing]


def test_every_kernel_has_a_backward_entry_for_each_real_parameter():
    for s in kernel_specs():
        names = {g.name for g in backward(s)}
        assert names == {n for n, kind in zip(s.input_names, s.kinds, strict=True) if kind != "count"}, s.name


@pytest.mark.parametrize(("name", "index"), DIFFERENTIABLE, ids=lambda v: str(v))
def test_autograd_is_the_finite_difference_of_the_value(nbt, name, index):
    """d(sum of output 0)/d(input) from backward, against a central difference of the value (h = 1e-6 relative)."""
    args = _ordinary(name)
    args[index].requires_grad_(True)
    out = getattr(nbt, name)(*args)
    value = out if isinstance(out, torch.Tensor) else out[0]
    (grad,) = torch.autograd.grad(value.sum(), args[index])
    with torch.no_grad():
        base = args[index].detach()
        h = 1e-6 * torch.clamp(base.abs(), min=1.0)
        plus = [a.detach() for a in args]
        minus = [a.detach() for a in args]
        plus[index], minus[index] = base + h, base - h
        numeric = (_first(getattr(nbt, name)(*plus)) - _first(getattr(nbt, name)(*minus))) / (2 * h)
    scale = torch.clamp(numeric.abs(), min=1e-3)
    assert torch.all((grad - numeric).abs() <= 1e-5 * scale), (name, index, grad, numeric)


def _first(out):
    return out if isinstance(out, torch.Tensor) else out[0]


def test_backward_calls_the_gradient_kernel_itself(nbt):
    """The theta-gradient of the log-PMF is -nb_nll_grad_theta's value, bit for bit (no autograd through the
    stable forms)."""
    x, mu, theta = _ordinary("nb_logpmf")
    theta.requires_grad_(True)
    (grad,) = torch.autograd.grad(nbt.nb_logpmf(x, mu, theta).sum(), theta)
    assert torch.equal(grad, -nbt.nb_nll_grad_theta(x, mu, theta.detach()))


def test_gradients_are_summed_to_the_parameters_shape(nbt):
    """theta per gene, (G,), against (cells, G): its gradient is the per-element gradient summed over cells."""
    rng = np.random.default_rng(1)
    x = torch.tensor(rng.integers(0, 20, (30, 7)).astype(float))
    mu = torch.tensor(np.exp(rng.uniform(-2, 4, (30, 7))), requires_grad=True)
    theta = torch.tensor(np.exp(rng.uniform(-1, 3, 7)), requires_grad=True)
    nbt.nb_logpmf(x, mu, theta).sum().backward()
    assert theta.grad.shape == (7,) and mu.grad.shape == (30, 7)
    per_element = -nbt.nb_nll_grad_theta(x, mu.detach(), theta.detach().expand(30, 7))
    torch.testing.assert_close(theta.grad, per_element.sum(dim=0), rtol=1e-13, atol=0)


def test_torch_compile_fullgraph_gives_the_eager_values_and_gradients(nbt):
    x, mu, theta = _ordinary("nb_logpmf", 200, seed=2)

    def loss(mu, theta):
        return -nbt.nb_logpmf(x, mu, theta).sum()

    compiled = torch.compile(loss, fullgraph=True)
    grads = []
    for function in (loss, compiled):
        m, t = mu.clone().requires_grad_(True), theta.clone().requires_grad_(True)
        value = function(m, t)
        value.backward()
        grads.append((value.detach(), m.grad, t.grad))
    (value, *eager), (traced_value, *traced) = grads
    torch.testing.assert_close(traced_value, value, rtol=1e-15, atol=0)  # (a sum: the compiled one adds in its order)
    for want, got in zip(eager, traced, strict=True):
        torch.testing.assert_close(got, want, rtol=0, atol=0)


def test_torch_compile_fullgraph_runs_the_float32_bodies(nbt):
    """float32 tensors under torch.compile(fullgraph=True): the eager float32 values and mu-gradients, bit for bit (the
    theta-gradient is summed over cells: to float32's rounding of the sum)."""
    x, mu, theta = (a.to(torch.float32) for a in _ordinary("nb_logpmf", 200, seed=2))
    theta = theta[:1]  # (one dispersion for all: its gradient is a sum)

    def per_entry(mu, theta):
        return nbt.nb_logpmf(x, mu, theta)

    compiled = torch.compile(per_entry, fullgraph=True)
    results = []
    for function in (per_entry, compiled):
        m, t = mu.clone().requires_grad_(True), theta.clone().requires_grad_(True)
        value = function(m, t)
        (-value.sum()).backward()
        results.append((value.detach(), m.grad, t.grad))
    (value, grad_mu, grad_theta), (traced, traced_mu, traced_theta) = results
    assert traced.dtype == torch.float32 and traced_theta.dtype == torch.float32
    assert torch.equal(traced, value) and torch.equal(traced_mu, grad_mu)
    torch.testing.assert_close(traced_theta, grad_theta, rtol=1e-5, atol=0)


def test_second_derivatives_are_refused_with_a_clear_error(nbt):
    x, mu, theta = _ordinary("nb_logpmf")
    mu.requires_grad_(True)
    with pytest.raises(RuntimeError, match="second derivatives are not derived"):
        torch.autograd.grad(nbt.nb_logpmf(x, mu, theta).sum(), mu, create_graph=True)


def test_a_missing_gradient_kernel_is_a_clear_error(nbt):
    x, log_mu, theta = _ordinary("nb_logpmf_logmu")
    theta.requires_grad_(True)
    with pytest.raises(NotImplementedError, match="no derived kernel gives d nb_logpmf_logmu / d theta"):
        nbt.nb_logpmf_logmu(x, log_mu, theta).sum().backward()


def test_fused_derivative_outputs_are_constants(nbt):
    """The fused kernel's gradient outputs carry no graph (their own derivatives are not derived); its value's
    gradients are those outputs."""
    x, log_mu, log_theta = _ordinary("nb_nll_fused")
    log_mu.requires_grad_(True)
    nll, grad_log_mu, grad_log_theta = nbt.nb_nll_fused(x, log_mu, log_theta)
    assert not grad_log_mu.requires_grad and not grad_log_theta.requires_grad
    nll.sum().backward()
    assert torch.equal(log_mu.grad, grad_log_mu)


def test_float32_in_float32_out_and_python_numbers(nbt):
    x, mu, theta = (a.to(torch.float32) for a in _ordinary("nb_logpmf"))
    got = nbt.nb_logpmf(x, mu, theta)
    assert got.dtype == torch.float32
    want = nbt.nb_logpmf(x.double(), mu.double(), theta.double())
    assert torch.equal(got, want.to(torch.float32))
    scalar = nbt.nb_logpmf(3, 2.5, theta.double()[0])
    assert scalar.dtype == torch.float64 and scalar.dim() == 0
    assert torch.equal(scalar, nbt.nb_logpmf(torch.tensor(3.0), torch.tensor(2.5), theta.double()[0]))


def test_the_summed_loss_is_the_negated_sum_over_genes(nbt):
    rng = np.random.default_rng(3)
    x = torch.tensor(rng.integers(0, 9, (5, 4)).astype(float))
    mu, theta = torch.tensor(np.exp(rng.uniform(-1, 2, (5, 4)))), torch.tensor(np.exp(rng.uniform(-1, 2, 4)))
    torch.testing.assert_close(nbt.nb_nll_sum_genes(x, mu, theta), -nbt.nb_logpmf(x, mu, theta).sum(-1),
                               rtol=0, atol=0)
    with pytest.raises(ValueError, match="last axis"):
        nbt.nb_nll_sum_genes(torch.tensor(1.0), torch.tensor(1.0), torch.tensor(1.0))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
def test_cuda_gives_the_cpu_values(nbt):
    x, mu, theta = _ordinary("nb_logpmf", 500, seed=4)
    got = nbt.nb_logpmf(x.cuda(), mu.cuda(), theta.cuda())
    assert got.device.type == "cuda"
    torch.testing.assert_close(got.cpu(), nbt.nb_logpmf(x, mu, theta), rtol=1e-13, atol=0)


# ------------------------------------------------------------------------------------------------------
# derive.torch.NegativeBinomial: a torch.distributions.Distribution on the backend


def test_distribution_log_prob_is_the_kernel_and_differentiable(nbt):
    from derive.torch import NegativeBinomial

    x, mu, theta = _ordinary("nb_logpmf", seed=5)
    mu.requires_grad_(True)
    d = NegativeBinomial(mu=mu, theta=theta)
    assert torch.equal(d.log_prob(x), nbt.nb_logpmf(x, mu, theta))
    torch.testing.assert_close(d.variance, mu + mu**2 / theta, rtol=1e-15, atol=0)
    d.log_prob(x).sum().backward()
    assert torch.equal(mu.grad, -nbt.nb_nll_grad_mu(x, mu.detach(), theta))


def test_distribution_samples_have_its_mean_and_variance():
    """Gamma-Poisson draws against mu and mu + mu^2/theta (100k draws: standard errors ~1% and ~3%)."""
    from derive.torch import NegativeBinomial

    torch.manual_seed(0)
    mu, theta = torch.tensor([0.5, 4.0, 50.0], dtype=torch.float64), torch.tensor([0.3, 2.0, 1e300])
    draws = NegativeBinomial(mu=mu, theta=theta.double()).sample((100_000,))
    assert draws.shape == (100_000, 3) and torch.all(draws == torch.floor(draws)) and torch.all(draws >= 0)
    torch.testing.assert_close(draws.mean(0), mu, rtol=0.03, atol=0)
    torch.testing.assert_close(draws.var(0), mu + mu**2 / theta.double(), rtol=0.1, atol=0)
    poisson = NegativeBinomial(mu=torch.tensor([3.0]), theta=torch.tensor([float("inf")])).sample((50_000,))
    torch.testing.assert_close(poisson.var(0), torch.tensor([3.0]), rtol=0.05, atol=0)


def test_distribution_validates_its_arguments_as_torch_does():
    from derive.torch import NegativeBinomial

    with pytest.raises(ValueError, match="mu"):
        NegativeBinomial(mu=torch.tensor([-1.0]), theta=torch.tensor([1.0]), validate_args=True)
    with pytest.raises(ValueError, match="theta"):
        NegativeBinomial(mu=torch.tensor([1.0]), theta=torch.tensor([0.0]), validate_args=True)
    d = NegativeBinomial(mu=torch.tensor([1.0]), theta=torch.tensor([1.0]), validate_args=True)
    with pytest.raises(ValueError, match="support"):
        d.log_prob(torch.tensor([0.5]))
    assert d.expand((4, 1)).batch_shape == (4, 1)


# ------------------------------------------------------------------------------------------------------
# float32: computed in float32 (or, where a kernel's float32 forms miss the goal, in float64 and rounded)

FLOAT32_SPECS = kernel_specs("float32")


def test_float32_meets_its_goals_against_the_oracle_in_every_regime():
    """Every output at inputs rounded to float32, against mpmath there: within float32's goal (8 or 16 units of
    2^-24) plus cond * 2^-24, never non-finite where the truth is finite; the float32 formulas people use miss it
    (the measurement can fail)."""
    from derive import accuracy

    samples = accuracy.sample_all(11, 40)
    cells = accuracy.measure(samples, {}, (), accuracy.narrow_backends({"torch": None}), accuracy.narrow_comparators())
    ours = [c for c in cells if c.column.startswith("torch float32:")]
    assert len(ours) == len(accuracy.REGIMES) * sum(len(s.outputs) for s in FLOAT32_SPECS)
    failed = [(c.regime, c.column, c.worst) for c in ours if not c.ok or c.n_nonfinite]
    assert not failed, failed
    assert all(c.precision == "float32" and c.goal <= 16 * 2.0**-24 for c in ours)
    scvi = {c.regime: c for c in cells if c.column == "scvi float32"}
    assert scvi["poisson"].max_rel_err > 1.0 and not scvi["poisson"].ok


@pytest.mark.parametrize("s", FLOAT32_SPECS, ids=lambda s: s.name)
def test_float32_runs_in_float32_unless_widened(nbt, s):
    """A widened kernel (its model's WIDENED: its float32 forms miss the goal) is float64's result rounded, bit for bit
    (but at x = 0 where it is in NARROW_DENSE); the others' float32 bodies are their float32 forms, not a call of
    float64's (their accuracy: the test above)."""
    args = [a.to(torch.float32) for a in _ordinary(s.name, 400, seed=6)]
    got = getattr(nbt, s.name)(*args)
    wide = getattr(nbt, s.name)(*(a.double() for a in args))
    got, wide = (o if isinstance(o, tuple) else (o,) for o in (got, wide))
    assert all(g.dtype == torch.float32 for g in got)
    rest = args[0] != 0 if s.narrow_dense else torch.ones_like(args[0], dtype=torch.bool)  # (x = 0: float32's)
    assert rest.any()
    if s.widened:
        assert all(torch.equal(g[rest], w.to(torch.float32)[rest]) for g, w in zip(got, wide, strict=True)), s.name
    import inspect

    source = inspect.getsource(getattr(nbt, f"_{s.name}_f32"))  # (float32 branches are chosen among by _choose)
    assert ("_choose(" in source) == (not s.widened or s.narrow_dense), s.name


def test_float32_backward_is_the_float32_gradient_kernel(nbt):
    x, mu, theta = (a.to(torch.float32) for a in _ordinary("gaussian_logpdf"))
    mu.requires_grad_(True)
    (grad,) = torch.autograd.grad(nbt.gaussian_logpdf(x, mu, theta).sum(), mu)
    assert grad.dtype == torch.float32
    assert torch.equal(grad, -nbt.gaussian_nll_grad_mu(x, mu.detach(), theta))
    x, mu, theta = (a.to(torch.float32) for a in _ordinary("nb_logpmf"))
    theta.requires_grad_(True)
    (grad,) = torch.autograd.grad(nbt.nb_logpmf(x, mu, theta).sum(), theta)
    assert grad.dtype == torch.float32 and torch.equal(grad, -nbt.nb_nll_grad_theta(x, mu, theta.detach()))


def test_half_precision_inputs_are_computed_in_float32(nbt):
    x, mu, sigma2 = (a.to(torch.float32) for a in _ordinary("gaussian_logpdf"))
    for dtype in (torch.float16, torch.bfloat16):
        got = nbt.mse(x.to(dtype), mu.to(dtype))
        assert got.dtype == dtype
        assert torch.equal(got, nbt.mse(x.to(dtype).float(), mu.to(dtype).float()).to(dtype))


#: float32's edges, and the edges of what its kernels compute in float32 (magnitudes 2^-31 to 2^31, log inputs to
#: 31 ln 2 = 21.49: Precision.ordinary_exponent) with values just beyond them.
FLOAT32_EDGES = [0.0, 1e-45, 1.1754944e-38, 1e-30, 2.0**-32, 2.0**-31, 0.5, 1.0, 3.0, -21.4, 21.4, 2.0**31, 2.0**32,
                 1e30, 3.4028235e38, float("inf"), float("nan")]


@pytest.mark.parametrize("s", [s for s in FLOAT32_SPECS if not s.widened or s.narrow_dense], ids=lambda s: s.name)
def test_float32_kernels_are_non_finite_only_where_float64s_are(nbt, s):
    """Every combination of float32's edge values (subnormal, smallest normal, largest finite, inf, NaN; counts 0, 1,
    3 and beyond) and of the float32 forms' own edges: NaN and +-inf exactly where the float64 kernels (whose
    conventions are tested against scipy) give them at the same inputs, or where float64's finite result is beyond
    float32's range; and inside those edges (computed in float32) within 1e-5 of float64's result."""
    import itertools

    combinations = itertools.product(FLOAT32_EDGES, repeat=len(s.inputs))
    grid = [torch.tensor(v, dtype=torch.float32) for v in zip(*combinations, strict=True)]
    got = getattr(nbt, s.name)(*grid)
    wide = getattr(nbt, s.name)(*(g.double() for g in grid))
    for g, w in zip(*(o if isinstance(o, tuple) else (o,) for o in (got, wide)), strict=True):
        rounded = w.to(torch.float32)
        assert torch.equal(torch.isnan(g), torch.isnan(rounded)), s.name
        assert torch.equal(torch.isposinf(g), torch.isposinf(rounded)), s.name
        assert torch.equal(torch.isneginf(g), torch.isneginf(rounded)), s.name
        finite = torch.isfinite(rounded) & (rounded.abs() > 1e-30)
        assert torch.all((g[finite].double() - w[finite]).abs() <= 1e-5 * w[finite].abs()), s.name
