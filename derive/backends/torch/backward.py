"""What each torch kernel's backward computes, read from the registry's gradients (derive/spec.py): for every input,
the kernel (and output) that is the derivative of an output w.r.t. it, or why there is none."""

from __future__ import annotations

from dataclasses import dataclass

from derive.spec import KernelSpec, gradients_of, spec


@dataclass(frozen=True)
class Backward:
    """d(output ``of_output``)/d(input ``index``) is ``sign`` times output ``output`` of ``kernel`` at the same
    arguments (``kernel`` empty: of the kernel itself, from its saved outputs); ``missing`` says why not."""

    index: int
    name: str
    kernel: str = ""
    output: int = 0
    of_output: int = 0
    sign: int = 1
    outputs: int = 1
    missing: str = ""


def backward(kernel: KernelSpec) -> list[Backward]:
    """One entry per differentiable input (not the counts) of ``kernel``."""
    found = {g.wrt: (s, g) for s, g in gradients_of(kernel.name)}
    entries = []
    for index, (name, kind) in enumerate(zip(kernel.input_names, kernel.kinds, strict=True)):
        if kind == "count":
            continue
        if name not in found:
            entries.append(Backward(index, name, missing=f"no derived kernel gives d {kernel.name} / d {name} yet"))
            continue
        other, g = found[name]
        entries.append(Backward(index, name, "" if other.name == kernel.name else other.name, g.output,
                                g.of_output, g.sign, len(spec(other.name).outputs)))
    return entries
