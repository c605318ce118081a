"""numpy statements for an ordered expression that reuse the arrays its own operations create.

``2.0 * v * a - t * v`` printed as one expression allocates an array per operation; here the first operation on
arrays allocates and the next ones write into it (``np.multiply(x, a, out=x)``), so a form costs about one fresh
array per independent branch of its tree. The operations and their order are unchanged: the same bits.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp

from derive.numerics.ir import Minus, Name, Negate, Over, Plus, Times

_UFUNC = {Plus: "np.add", Minus: "np.subtract", Times: "np.multiply", Over: "np.divide"}


def _array_valued(expr: sp.Basic) -> bool:
    """Whether the value is an array (it reads a variable: parameters and lets are arrays in a form)."""
    return any(not isinstance(s, Name) for s in expr.free_symbols)


class InPlace:
    """Collects the statements; ``value(expr)`` returns (text, fresh): fresh text names an array no one else holds."""

    def __init__(self, print_leaf: Callable[[sp.Basic], str], prefix: str):
        self.print_leaf = print_leaf
        self.prefix = prefix
        self.lines: list[str] = []
        self.count = 0

    def _fresh(self, text: str) -> str:
        self.count += 1
        name = f"{self.prefix}{self.count}"
        self.lines.append(f"{name} = {text}")
        return name

    def value(self, expr: sp.Basic) -> tuple[str, bool]:
        if isinstance(expr, Negate) and _array_valued(expr):
            operand, fresh = self.value(expr.args[0])
            if fresh:
                self.lines.append(f"np.negative({operand}, out={operand})")
                return operand, True
            return self._fresh(f"-{operand}"), True
        if type(expr) in _UFUNC and _array_valued(expr):
            (a, fresh_a), (b, fresh_b) = self.value(expr.args[0]), self.value(expr.args[1])
            if fresh_a or fresh_b:
                out = a if fresh_a else b
                self.lines.append(f"{_UFUNC[type(expr)]}({a}, {b}, out={out})")
                return out, True
            return self._fresh(f"{a} {expr.symbol} {b}"), True
        text = self.print_leaf(expr)
        return (f"({text})" if not _atomic(text) else text), False


def _atomic(text: str) -> bool:
    """Text that needs no parentheses as an operand: a name, a number or a call."""
    return text.replace("_", "a").replace(".", "a").isalnum() or (text.endswith(")") and "(" in text
                                                                  and text.index("(") > 0
                                                                  and text[:text.index("(")].replace("_", "a")
                                                                  .replace(".", "a").isalnum())


def statements(target: str, expr: sp.Basic, print_leaf: Callable[[sp.Basic], str], indent: str,
               prefix: str) -> list[str]:
    """``target = expr`` as statements (``return expr`` where target is "return")."""
    builder = InPlace(print_leaf, prefix)
    text, _ = builder.value(expr)
    last = f"return {text}" if target == "return" else f"{target} = {text}"
    return [f"{indent}{line}" for line in (*builder.lines, last)]
