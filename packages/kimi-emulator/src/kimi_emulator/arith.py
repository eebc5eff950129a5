"""A tiny, safe arithmetic evaluator (numbers, + - * / % **, parentheses, Math.* basics).

Used by the quickjs formula and the brain; it walks a Python AST of an expression and never
executes code, so any input that is not plain arithmetic is refused.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable

__all__ = ["evaluate", "find_expression"]

_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_FUNCTIONS: dict[str, Callable[..., float]] = {
    "sqrt": math.sqrt,
    "abs": abs,
    "floor": math.floor,
    "ceil": math.ceil,
    "round": round,
    "max": max,
    "min": min,
    "pow": math.pow,
}
_EXPRESSION = re.compile(r"[\d.]+(?:\s*(?:\*\*|[-+*/%])\s*\(?\s*[\d.]+\s*\)?)+")


def _eval(node: ast.AST) -> float:
    if isinstance(node, ast.Expression):
        return _eval(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _eval(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > 64:
            raise ValueError("exponent too large")
        return _BINARY[type(node.op)](left, right)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "Math"
        and node.func.attr in _FUNCTIONS
        and not node.keywords
    ):
        return _FUNCTIONS[node.func.attr](*(_eval(arg) for arg in node.args))
    raise ValueError("only arithmetic expressions are supported")


def evaluate(expression: str) -> float | int:
    """Evaluate an arithmetic expression (JavaScript-ish: ``Math.sqrt(2) * 3``).

    Raises:
        ValueError: anything that is not plain arithmetic, or a math error.
    """
    source = expression.strip().rstrip(";")
    if len(source) > 500:
        raise ValueError("expression too long")
    try:
        value = _eval(ast.parse(source, mode="eval"))
    except (SyntaxError, ZeroDivisionError, OverflowError, TypeError) as exc:
        raise ValueError(str(exc)) from exc
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def find_expression(text: str) -> str | None:
    """The first arithmetic expression written inside ``text`` (e.g. ``17*19``), if any."""
    match = _EXPRESSION.search(text)
    return match.group(0) if match else None
