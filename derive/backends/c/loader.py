"""Loading the C backend: compile the generated source with the system compiler on first use, into a user cache
keyed by the hash of source, flags and compiler, and bind it with ctypes, broadcasting like numpy.

Without a compiler it raises :class:`derive.kernels.CompilerError` saying what is missing; it never falls back to
another backend.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

from derive.kernels import CompilerError, cache_dir, generated_text

#: The flags the C kernels are built with (the warning flags make any warning an error).
CFLAGS = ("-std=c99", "-O2", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-fPIC", "-shared")
OPENMP_FLAGS = ("-fopenmp",)


def find_compiler() -> str:
    """The C compiler to use: $CC, else cc, gcc or clang on PATH."""
    candidates = [os.environ["CC"]] if os.environ.get("CC") else ["cc", "gcc", "clang"]
    for candidate in candidates:
        found = shutil.which(candidate.split()[0])
        if found:
            return found
    raise CompilerError(
        "the C backend needs a C compiler and none was found "
        f"(looked for {', '.join(candidates)} on PATH; install gcc or set CC). "
        "load('numpy') needs no compiler."
    )


def _compiler_version(compiler: str) -> str:
    result = subprocess.run([compiler, "--version"], capture_output=True, text=True, check=False)
    return result.stdout.splitlines()[0] if result.stdout else compiler


def _try_compile(compiler: str, source: Path, target: Path, extra: tuple[str, ...]) -> subprocess.CompletedProcess:
    command = [compiler, *CFLAGS, *extra, "-o", str(target), str(source), "-lm"]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def compile_c_source(source: str, name: str, header: str | None = None, openmp: bool = True) -> ctypes.CDLL:
    """Compile C source (with the kernels' flags) into the cache, once per content hash; return the library.

    ``header`` is written beside the source as ``nbkernels.h`` when given.
    """
    compiler = find_compiler()
    flags = CFLAGS + (OPENMP_FLAGS if openmp else ())
    key = hashlib.sha256("\0".join([source, header or "", " ".join(flags), _compiler_version(compiler),
                                    sys.platform]).encode()).hexdigest()[:20]
    target = cache_dir() / f"{name}-{key}.so"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as build:
            src = Path(build) / f"{name}.c"
            src.write_text(source, encoding="utf-8")
            if header is not None:
                (Path(build) / "nbkernels.h").write_text(header, encoding="utf-8")
            built = Path(build) / f"{name}.so"
            result = _try_compile(compiler, src, built, OPENMP_FLAGS if openmp else ())
            if result.returncode != 0 and openmp:
                openmp_error = result.stderr.strip()
                result = _try_compile(compiler, src, built, ())
                if result.returncode == 0:
                    warnings.warn(f"{compiler} cannot build with OpenMP; the C kernels run on one thread "
                                  f"({openmp_error.splitlines()[-1] if openmp_error else 'no detail'})",
                                  RuntimeWarning, stacklevel=2)
            if result.returncode != 0:
                raise CompilerError(f"{compiler} failed to compile {name}.c:\n{result.stderr}")
            tmp_target = target.with_suffix(f".{os.getpid()}.tmp")
            shutil.copyfile(built, tmp_target)
            os.replace(tmp_target, target)  # atomic: concurrent loaders never see a half-written library
    return ctypes.CDLL(str(target))


# --------------------------------------------------------------------------------------------------------
# The C backend's Python face: broadcasting like numpy, without copying broadcast inputs.

_DOUBLE_P = ctypes.POINTER(ctypes.c_double)
_I64 = ctypes.c_int64


def _as_grid(arrays: list[np.ndarray], shape: tuple[int, ...]) -> tuple[int, int, list[tuple]]:
    """(n0, n1, [(view, s0, s1)]): each input viewed on an n0 x n1 grid with element strides (0 = broadcast).

    Up to two dimensions nothing is copied; beyond, inputs are materialised (the C loops are two-dimensional).
    """
    if len(shape) <= 2:
        n0, n1 = (1, shape[0]) if len(shape) == 1 else ((1, 1) if not shape else shape)
        views = []
        for a in arrays:
            b = np.broadcast_to(a, shape).reshape((n0, n1)) if a.shape != (n0, n1) else a
            views.append((b, b.strides[0] // 8, b.strides[1] // 8))
        return n0, n1, views
    total = int(np.prod(shape))
    views = []
    for a in arrays:
        full = np.ascontiguousarray(np.broadcast_to(a, shape)).reshape((1, total))
        views.append((full, 0, 1))
    return 1, total, views


class CKernels:
    """The C backend: the same functions, names and semantics as the numpy backend."""

    backend = "c"

    def __init__(self, lib: ctypes.CDLL, specs):
        self._lib = lib
        self._lib.nbk_set_threads.argtypes = [ctypes.c_int]
        self._lib.nbk_get_threads.restype = ctypes.c_int
        self.names = []
        for spec in specs:
            self._bind(spec.name, len(spec.inputs), len(spec.outputs), spec.doc)
            if spec.reduction:
                self._bind(spec.reduction_name, len(spec.inputs), 1, "Loss summed over the last axis.",
                           reduce=True)

    def _bind(self, name: str, n_in: int, n_out: int, doc: str, reduce: bool = False) -> None:
        function = getattr(self._lib, f"{name}_array")
        function.restype = None
        function.argtypes = [_I64, _I64] + [_DOUBLE_P, _I64, _I64] * n_in + [_DOUBLE_P] * n_out

        def call(*args, out=None):
            if len(args) != n_in:
                raise TypeError(f"{name}() takes {n_in} arguments ({len(args)} given)")
            arrays = [np.asarray(a, dtype=np.float64) for a in args]
            shape = np.broadcast_shapes(*(a.shape for a in arrays))
            if reduce:
                return self._reduce(function, name, arrays, shape)
            n0, n1, views = _as_grid([np.ascontiguousarray(a) if a.ndim else a for a in arrays], shape)
            if out is not None:
                outputs = list(out) if n_out > 1 else [out]
                for o in outputs:
                    if o.shape != shape or o.dtype != np.float64 or not o.flags.c_contiguous:
                        raise ValueError(f"out= must be C-contiguous float64 arrays of shape {shape}")
            else:
                outputs = [np.empty(shape) for _ in range(n_out)]
            if n0 * n1:
                flat = []
                for view, s0, s1 in views:
                    flat += [view.ctypes.data_as(_DOUBLE_P), s0, s1]
                function(n0, n1, *flat, *(o.ctypes.data_as(_DOUBLE_P) for o in outputs))
            results = tuple(o[()] for o in outputs)
            return results if n_out > 1 else results[0]

        call.__name__ = name
        call.__doc__ = doc
        setattr(self, name, call)
        self.names.append(name)

    @staticmethod
    def _reduce(function, name: str, arrays: list[np.ndarray], shape: tuple[int, ...]):
        """Sum over the last axis without materialising the full result (inputs are only broadcast views)."""
        if not shape:
            raise ValueError(f"{name}() sums over the last axis: it needs inputs with at least one dimension")
        rows, genes = int(np.prod(shape[:-1], dtype=np.int64)), shape[-1]
        out = np.zeros(rows)
        if rows and genes:
            flat = []
            for a in arrays:
                view = np.broadcast_to(a, shape)
                if view.ndim > 2:
                    view = np.ascontiguousarray(view).reshape(rows, genes)
                elif view.ndim == 1:
                    view = view.reshape(1, genes)
                flat += [view.ctypes.data_as(_DOUBLE_P), view.strides[0] // 8, view.strides[1] // 8]
            function(rows, genes, *flat, out.ctypes.data_as(_DOUBLE_P))
        return out.reshape(shape[:-1])[()]

    @property
    def threads(self) -> int:
        """OpenMP threads the array functions use (1 without OpenMP)."""
        return int(self._lib.nbk_get_threads())

    def set_threads(self, threads: int) -> None:
        """Set the number of OpenMP threads (default: all cores)."""
        if int(threads) < 1:
            raise ValueError("threads must be >= 1")
        self._lib.nbk_set_threads(int(threads))


def load() -> CKernels:
    """Compile (once per content hash) and bind the generated C kernels."""
    from derive.spec import kernel_specs

    source = generated_text("c/nbkernels.c")
    header = generated_text("c/nbkernels.h")
    return CKernels(compile_c_source(source, "nbkernels", header=header), kernel_specs())


