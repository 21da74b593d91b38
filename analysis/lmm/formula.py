"""lme4 formula syntax: the fixed part for patsy, the random terms parsed here.

patsy reads `|` as "or", so a random term must never reach it. The formula is tokenised once, split on
the top-level `+`/`-`; every parenthesised term with a top-level `|` is a random term `(expr | group)`,
everything else is the fixed part, handed to patsy as written. What lme4 would fit differently from what
we can fit (`||`, interactions inside a random term, functions of columns there) is refused with a
`ValueError` that names the term, never fitted as another model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<name>[A-Za-z_.][A-Za-z0-9_.]*)
    | (?P<quoted>`[^`]+`)
    | (?P<number>\d+(?:\.\d*)?)
    | (?P<op>\|\||\*\*|%in%|[~+\-*/:^(),|])
    | (?P<other>\S)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str  # name, number, op, other
    text: str


def tokenize(text: str) -> list[Token]:
    tokens = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            break
        pos = m.end()
        kind = m.lastgroup
        value = m.group(kind)
        if kind == "quoted":
            kind, value = "name", value[1:-1]
        tokens.append(Token(kind, value))
    return tokens


@dataclass(frozen=True)
class RandomTerm:
    """`(expr | group)`: `expr` as a patsy right-hand side, `group` the factors whose interaction groups."""

    expr: str  # "1", "1 + Days", "0 + Days"
    group: tuple[str, ...]  # ("batch", "cask") for batch:cask
    written: str  # the term as the user wrote it (for messages)

    @property
    def group_name(self) -> str:
        return ":".join(self.group)

    @property
    def columns(self) -> list[str]:
        """Data columns named in the term's left-hand side."""
        return [t.text for t in tokenize(self.expr) if t.kind == "name"]


@dataclass(frozen=True)
class Response:
    """The left-hand side: one column, or binomial counts `cbind(successes, failures)`."""

    column: str | None = None
    successes: str | None = None
    failures: str | None = None  # a column, or None when given as `trials - successes`
    trials: str | None = None

    @property
    def is_counts(self) -> bool:
        return self.successes is not None

    @property
    def columns(self) -> list[str]:
        return [c for c in (self.column, self.successes, self.failures, self.trials) if c]

    def text(self) -> str:
        if not self.is_counts:
            return str(self.column)
        second = self.failures if self.failures else f"{self.trials} - {self.successes}"
        return f"cbind({self.successes}, {second})"


@dataclass(frozen=True)
class Formula:
    """A parsed lme4 formula: response, fixed part (patsy syntax) and random terms in written order."""

    text: str
    response: Response
    fixed: str  # right-hand side for patsy, e.g. "1 + Days" or "0 + arm"
    random: tuple[RandomTerm, ...]

    @property
    def fixed_columns(self) -> list[str]:
        return [t.text for t in tokenize(self.fixed) if t.kind == "name"]

    def with_group(self, group: str | None) -> Formula:
        """`--group COL`: a formula without random terms means `+ (1|COL)`; with them, COL must be one
        of their grouping factors (it then names the group the legacy keys describe)."""
        if group is None:
            if not self.random:
                raise ValueError(f"{self.text!r} has no random term: write one, e.g. `+ (1|lab)`, or give --group COL")
            return self
        if not self.random:
            term = RandomTerm("1", tuple(group.split(":")), f"(1|{group})")
            return Formula(f"{self.text} + (1|{group})", self.response, self.fixed, (term,))
        if group not in {t.group_name for t in self.random}:
            raise ValueError(
                f"--group {group} does not match the random terms of {self.text!r} "
                f"(grouping factors: {', '.join(sorted({t.group_name for t in self.random}))}); "
                "drop --group or name one of them"
            )
        return self


def parse(text: str) -> Formula:
    """Parse an lme4 formula; a ValueError says what cannot be fitted as written."""
    if not isinstance(text, str) or "~" not in text:
        raise ValueError(f"formula {text!r} needs a response and `~`, e.g. `y ~ x + (1|g)`")
    tokens = tokenize(text)
    _check_characters(text, tokens)
    tilde = [i for i, t in enumerate(tokens) if t.text == "~"]
    if len(tilde) != 1 or tilde[0] == 0:
        raise ValueError(f"formula {text!r} needs exactly one `~` with a response before it")
    response = _response(tokens[: tilde[0]], text)
    rhs = tokens[tilde[0] + 1 :]
    if not rhs:
        raise ValueError(f"formula {text!r} has nothing right of `~`")
    _check_balanced(rhs, text)
    fixed_parts: list[str] = []
    random: list[RandomTerm] = []
    for sign, term in _split_sum(rhs, text):
        if _is_random(term):
            if sign != "+":
                raise ValueError(f"cannot subtract the random term {_join(term)} in {text!r}")
            random.extend(_random_terms(term, text))
        else:
            if any(t.text in ("|", "||") for t in term):
                raise ValueError(
                    f"`|` in {_join(term)!r} of {text!r}: a random term must be in parentheses, e.g. (1|g)"
                )
            fixed_parts.append(("- " if sign == "-" else "+ ") + _join(term))
    fixed = " ".join(fixed_parts).strip()
    fixed = fixed[2:] if fixed.startswith("+ ") else fixed
    if not fixed or fixed.startswith("- "):
        fixed = ("1 " + fixed).strip()
    return Formula(text=text.strip(), response=response, fixed=fixed, random=tuple(random))


def _check_characters(text: str, tokens: list[Token]) -> None:
    bad = [t.text for t in tokens if t.kind == "other"]
    if bad:
        raise ValueError(f"formula {text!r}: unexpected {bad[0]!r}")


def _check_balanced(tokens: list[Token], text: str) -> None:
    depth = 0
    for t in tokens:
        depth += t.text == "("
        depth -= t.text == ")"
        if depth < 0:
            break
    if depth != 0:
        raise ValueError(f"formula {text!r} has unbalanced parentheses")


def _split_sum(tokens: list[Token], text: str) -> list[tuple[str, list[Token]]]:
    """Top-level summands with their sign: `a + (1|g) - 1` → [(+, a), (+, (1|g)), (-, 1)]."""
    out: list[tuple[str, list[Token]]] = []
    sign, current, depth = "+", [], 0
    for t in tokens:
        if depth == 0 and t.text in ("+", "-"):
            if current:
                out.append((sign, current))
            elif t.text == "-" and sign == "-":
                raise ValueError(f"formula {text!r}: `- -` is not a term")
            sign, current = t.text, []
            continue
        depth += t.text == "("
        depth -= t.text == ")"
        current.append(t)
    if not current:
        raise ValueError(f"formula {text!r} ends with {sign!r}")
    out.append((sign, current))
    return out


def _is_random(term: list[Token]) -> bool:
    """A parenthesised term with `|` or `||` at its own top level."""
    if len(term) < 3 or term[0].text != "(" or term[-1].text != ")":
        return False
    depth = 0
    for i, t in enumerate(term):
        depth += t.text == "("
        depth -= t.text == ")"
        if depth == 0 and i < len(term) - 1:
            return False  # `(a)(b)` or `(a) : b`: not one parenthesised term
        if depth == 1 and t.text in ("|", "||"):
            return True
    return False


def _random_terms(term: list[Token], text: str) -> list[RandomTerm]:
    inner = term[1:-1]
    written = _join(term)
    bars = [i for i, t in enumerate(inner) if t.text in ("|", "||") and _depth(inner, i) == 0]
    if inner[bars[0]].text == "||":
        raise ValueError(
            f"{written} in {text!r}: the double bar `||` is not supported; "
            "write the uncorrelated terms out, e.g. (1|g) + (0 + x|g)"
        )
    if len(bars) != 1:
        raise ValueError(f"{written} in {text!r} has more than one `|`")
    lhs, rhs = inner[: bars[0]], inner[bars[0] + 1 :]
    expr = _random_expr(lhs, written, text)
    return [RandomTerm(expr, group, written) for group in _groups(rhs, written, text)]


def _depth(tokens: list[Token], index: int) -> int:
    depth = 0
    for t in tokens[:index]:
        depth += t.text == "("
        depth -= t.text == ")"
    return depth


def _random_expr(lhs: list[Token], written: str, text: str) -> str:
    """The left of `|`: `1`, `0`, columns, joined by `+` (and `- 1`). Anything else is refused."""
    if not lhs:
        raise ValueError(f"{written} in {text!r} has nothing left of `|`")
    parts = []
    for sign, piece in _split_sum(lhs, text):
        if len(piece) != 1 or piece[0].kind not in ("name", "number"):
            raise ValueError(
                f"{written} in {text!r}: only columns, 1 and 0 joined by + can stand left of `|` "
                f"(not {_join(piece)!r}); interactions and functions in random terms are not supported"
            )
        value = piece[0].text
        if piece[0].kind == "number" and value not in ("0", "1"):
            raise ValueError(f"{written} in {text!r}: {value!r} is not a column, 1 or 0")
        if sign == "-" and value != "1":
            raise ValueError(f"{written} in {text!r}: only `- 1` can be subtracted")
        parts.append(("- " if sign == "-" else "+ ") + value)
    expr = " ".join(parts)
    return expr[2:] if expr.startswith("+ ") else expr


def _groups(rhs: list[Token], written: str, text: str) -> list[tuple[str, ...]]:
    """`g` → [(g,)]; `g:h` → [(g, h)]; `g/h` → [(g,), (h, g)] (lme4's nesting: (1|g) + (1|h:g))."""
    if not rhs or rhs[0].kind != "name" or rhs[-1].kind != "name":
        raise ValueError(f"{written} in {text!r}: the grouping right of `|` must be a column")
    levels: list[list[str]] = [[rhs[0].text]]
    for i in range(1, len(rhs), 2):
        op = rhs[i].text
        if op not in (":", "/") or i + 1 >= len(rhs) or rhs[i + 1].kind != "name":
            raise ValueError(
                f"{written} in {text!r}: the grouping must be columns joined by `:` or `/` (not {_join(rhs)!r})"
            )
        if op == ":":
            levels[-1].append(rhs[i + 1].text)
        else:
            levels.append([rhs[i + 1].text])
    groups, prefix = [], []
    for level in levels:
        prefix = level + prefix  # lme4 names the nested term of g/h `h:g`
        groups.append(tuple(prefix))
    return groups


def _response(tokens: list[Token], text: str) -> Response:
    if len(tokens) == 1 and tokens[0].kind == "name":
        return Response(column=tokens[0].text)
    if tokens and tokens[0].text == "cbind":
        inner = tokens[2:-1] if len(tokens) > 3 and tokens[1].text == "(" and tokens[-1].text == ")" else None
        commas = [i for i, t in enumerate(inner or []) if t.text == ","]
        if inner is not None and len(commas) == 1:
            first, second = inner[: commas[0]], inner[commas[0] + 1 :]
            if len(first) == 1 and first[0].kind == "name":
                k = first[0].text
                if len(second) == 1 and second[0].kind == "name":
                    return Response(successes=k, failures=second[0].text)
                if (
                    len(second) == 3
                    and second[0].kind == "name"
                    and second[1].text == "-"
                    and second[2].kind == "name"
                    and second[2].text == k
                ):
                    return Response(successes=k, trials=second[0].text)
        raise ValueError(
            f"response of {text!r}: write binomial counts as cbind(successes, failures) "
            "or cbind(successes, trials - successes), with column names"
        )
    raise ValueError(
        f"response of {text!r} must be one column (or cbind(successes, failures)); transform it in the data"
    )


def _join(tokens: list[Token]) -> str:
    out = ""
    for t in tokens:
        if (
            t.text in ("(",)
            or out.endswith("(")
            or t.text in (")", ",", ":")
            or out.endswith(":")
            or t.text == "|"
            or out.endswith("|")
        ):
            out += t.text
        else:
            out += (" " if out else "") + t.text
    return out
