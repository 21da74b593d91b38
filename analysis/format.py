"""Number formatting shared by the console summaries, the LaTeX and the JSON of every analysis."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

P_FLOOR = 1e-300  # below this a p-value is printed as `< 1e-300`: doubles underflow to 0 near 1e-308


def p_text(p: float) -> str:
    """A p-value as a paper prints it: `p < 0.001`, else three decimals."""
    if p is None or not math.isfinite(p):
        return "p = n/a"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def p_latex(p: float) -> str:
    """`p_text` in math mode: `$p < 0.001$`."""
    return "$" + p_text(p) + "$"


def p_value(p: float | None) -> str:
    """A p-value to three significant digits for tables (`0.0123`, `4.5e-13`); `< 1e-300` where it
    underflows (never `0`), `n/a` where there is none. JSON keeps the float itself."""
    if p is None or not math.isfinite(p):
        return "n/a"
    if p < P_FLOOR:
        return "< 1e-300"
    return f"{p:.3g}"


def p_value_latex(p: float | None) -> str:
    """`p_value` for LaTeX: `$4.5\\times10^{-13}$`, `$<10^{-300}$`."""
    if p is None or not math.isfinite(p):
        return "n/a"
    if p < P_FLOOR:
        return "$<10^{-300}$"
    if p >= 0.001:
        return f"{p:.3f}"
    mantissa, exponent = f"{p:.2e}".split("e")
    return rf"${mantissa}\times10^{{{int(exponent)}}}$"


def tex(text: str) -> str:
    """Escape the LaTeX specials that occur in model, kind and column names."""
    out = str(text)
    for a, b in (
        ("\\", r"\textbackslash{}"),
        ("&", r"\&"),
        ("%", r"\%"),
        ("$", r"\$"),
        ("#", r"\#"),
        ("_", r"\_"),
        ("{", r"\{"),
        ("}", r"\}"),
        ("~", r"\textasciitilde{}"),
        ("^", r"\^{}"),
    ):
        out = out.replace(a, b)
    return out


def num(x: float, digits: int = 3) -> str:
    """Fixed decimals, or `n/a` for a missing or non-finite value."""
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{x:.{digits}f}"


def slug(text: str) -> str:
    """A file-name-safe form of a metric or model name."""
    import re

    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text)).strip("_") or "x"


def jsonable(obj: Any) -> Any:
    """Plain JSON values: numpy scalars unwrapped, NaN as null, ±inf as a string (never invalid JSON)."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [jsonable(v) for v in obj.tolist()]
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        if math.isnan(x):
            return None
        return x if math.isfinite(x) else str(x)
    return obj
