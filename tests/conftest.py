"""Shared fixtures for the kernel tests: the generated kernels of every backend (found from the backend folders)."""

from __future__ import annotations

import numpy as np
import pytest

from derive.backends import backend
from derive.kernels import available, backends, load


class NumpyView:
    """A framework backend's kernels (torch: tensors in and out) with numpy results, so that the tests written for
    every backend compare values, not array types: each output as np.asarray(output), a numpy scalar where 0-d. The
    backend's own types and autograd are tested in its own tests (tests/test_torch_backend.py)."""

    def __init__(self, module):
        self._module = module
        self.backend, self.names = module.backend, module.names

    def __getattr__(self, name):
        function = getattr(self._module, name)

        def call(*args, **kwargs):
            out = function(*args, **kwargs)
            return tuple(np.asarray(o)[()] for o in out) if isinstance(out, tuple) else np.asarray(out)[()]

        return call


def _kernels(name: str):
    return NumpyView(load(name)) if backend(name).requires else load(name)


def loaded(name: str):
    """The kernels of backend ``name`` (numpy results); the test is skipped, saying why, where its framework is not
    installed."""
    if name not in available():
        pytest.skip(f"backend {name}: its framework is not installed (pip install 'nbderive[{name}]')")
    return _kernels(name)


@pytest.fixture(scope="session")
def numpy_kernels():
    return load("numpy")


@pytest.fixture(scope="session")
def c_kernels():
    return load("c")


@pytest.fixture(scope="session", params=backends())
def any_backend(request):
    """Each backend in turn (a test using it runs once per backend)."""
    return loaded(request.param)


@pytest.fixture(scope="session")
def every_backend():
    """Every backend whose framework is installed, at once, for tests that check one convention across all of them
    in one run."""
    return tuple(_kernels(name) for name in available())
