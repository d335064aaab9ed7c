"""A small formula and design-matrix builder for the MMRM engine.

Formulas are ``response ~ terms``: terms separated by ``+``; ``a:b`` is an interaction,
``a*b`` expands to ``a + b + a:b``; ``1`` alone is the intercept-only model and ``0 +``
drops the intercept. A variable is a factor when its column is not numeric or when it is
named in ``factors``; factors use treatment (dummy) coding against a chosen reference level,
numeric variables enter as they are. Formulas must be hierarchical (every lower-order part
of an interaction is in the model), so that dummy coding gives the usual full-rank model.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Design", "Term", "Variable", "level_codes", "parse_formula"]


def level_codes(column: pd.Series, levels: Sequence[str]) -> np.ndarray:
    """Position of each value's ``str`` in ``levels``; -1 for missing or unknown values."""
    # factorise once, then map the few distinct values to level positions
    codes, uniques = pd.factorize(column)
    position = {level: i for i, level in enumerate(levels)}
    lookup = np.array([position.get(str(u), -1) for u in uniques] + [-1], dtype=np.int64)
    return lookup[codes]  # factorize marks missing values -1, which picks the last entry


@dataclass(frozen=True)
class Variable:
    """A model variable: a factor with ordered levels and a reference level, or numeric."""

    name: str
    levels: tuple[str, ...] | None = None  # None for numeric variables
    reference: str | None = None

    @property
    def is_factor(self) -> bool:
        return self.levels is not None

    @property
    def coded_levels(self) -> tuple[str, ...]:
        """The levels that get a column (all but the reference)."""
        return tuple(level for level in self.levels if level != self.reference)


@dataclass(frozen=True)
class Term:
    """A model term: the intercept (no variables), a main effect or an interaction."""

    variables: tuple[str, ...]

    @property
    def name(self) -> str:
        return ":".join(self.variables) if self.variables else "Intercept"


def parse_formula(formula: str) -> tuple[str, list[Term]]:
    """Split ``formula`` into the response name and the ordered list of terms.

    Terms are ordered by interaction order, then by first appearance (as R does).

    Parameters
    ----------
    formula : str
        E.g. ``"FEV1 ~ ARMCD * AVISIT + RACE + SEX"``.

    Returns
    -------
    response : str
    terms : list of Term
        Starting with the intercept unless the formula has ``0 +`` or ``- 1``.
    """
    if formula.count("~") != 1:
        raise ValueError(f"formula needs exactly one '~': {formula!r}")
    lhs, rhs = (part.strip() for part in formula.split("~"))
    if not lhs:
        raise ValueError(f"formula has no response: {formula!r}")
    intercept = True
    found: list[tuple[str, ...]] = []
    rhs = rhs.replace("- 1", "+ 0").replace("-1", "+0")
    for raw in rhs.split("+"):
        piece = raw.strip()
        if piece in ("", "1"):
            continue
        if piece == "0":
            intercept = False
            continue
        if "*" in piece:
            names = [name.strip() for name in piece.split("*")]
            for order in range(1, len(names) + 1):
                found.extend(itertools.combinations(names, order))
        else:
            found.append(tuple(name.strip() for name in piece.split(":")))
    # variables inside a term follow their first appearance in the formula (as in R)
    first = {name: i for i, name in reversed(list(enumerate(n for v in found for n in v)))}
    seen: dict[frozenset[str], tuple[str, ...]] = {}
    for variables in found:
        if not all(variables) or len(set(variables)) != len(variables):
            raise ValueError(f"malformed term {':'.join(variables)!r} in {formula!r}")
        seen.setdefault(frozenset(variables), tuple(sorted(variables, key=first.get)))
    position = {key: i for i, key in reversed(list(enumerate(frozenset(v) for v in found)))}
    terms = sorted(seen.values(), key=lambda v: (len(v), position[frozenset(v)]))
    keys = set(seen)
    for variables in terms:
        for order in range(1, len(variables)):
            for sub in itertools.combinations(variables, order):
                if frozenset(sub) not in keys:
                    raise ValueError(
                        f"term {':'.join(variables)!r} needs its lower-order term "
                        f"{':'.join(sub)!r} in the formula"
                    )
    out = [Term(())] if intercept else []
    return lhs, out + [Term(tuple(v)) for v in terms]


@dataclass(frozen=True)
class Design:
    """The model's variables and terms, able to build design matrices for any data frame.

    Use :meth:`from_formula`; then :meth:`matrix` for the model matrix of the fitting data
    or of a reference grid (LS-means).
    """

    response: str
    terms: tuple[Term, ...]
    variables: Mapping[str, Variable]

    @classmethod
    def from_formula(
        cls,
        formula: str,
        data: pd.DataFrame,
        reference: Mapping[str, object] | None = None,
        factors: Iterable[str] = (),
        levels: Mapping[str, Sequence[object]] | None = None,
    ) -> Design:
        """Build the design for ``formula`` on ``data``.

        Parameters
        ----------
        formula : str
            See the module docstring.
        data : DataFrame
            Holds the response and every variable of the formula.
        reference : mapping, optional
            Reference level per factor (default: the first level).
        factors : iterable of str
            Numeric columns to treat as factors.
        levels : mapping, optional
            Level order per factor (default: categorical order, else sorted values).
        """
        response, terms = parse_formula(formula)
        reference = dict(reference or {})
        levels = dict(levels or {})
        factors = set(factors) | set(reference) | set(levels)
        names = list(dict.fromkeys(name for term in terms for name in term.variables))
        missing = [name for name in [response, *names] if name not in data.columns]
        if missing:
            raise KeyError(f"columns not in the data: {missing}")
        variables = {}
        for name in names:
            column = data[name]
            numeric = pd.api.types.is_numeric_dtype(column) and not isinstance(
                column.dtype, pd.CategoricalDtype
            )
            if numeric and name not in factors and not pd.api.types.is_bool_dtype(column):
                variables[name] = Variable(name)
                continue
            if name in levels:
                level_list = tuple(str(level) for level in levels[name])
            elif isinstance(column.dtype, pd.CategoricalDtype):
                present = {str(v) for v in pd.unique(column.dropna())}
                level_list = tuple(str(c) for c in column.cat.categories if str(c) in present)
            else:
                uniques = list(pd.unique(column.dropna()))
                try:  # numbers sort as numbers (2 before 10), anything else as text
                    uniques = sorted(uniques)
                except TypeError:
                    uniques = sorted(uniques, key=str)
                level_list = tuple(str(v) for v in uniques)
            ref = str(reference[name]) if name in reference else level_list[0]
            if ref not in level_list:
                raise ValueError(f"reference level {ref!r} is not a level of {name!r}")
            variables[name] = Variable(name, level_list, ref)
        return cls(response, tuple(terms), variables)

    # ------------------------------------------------------------------ columns
    def term_columns(self, term: Term) -> list[str]:
        """Column names of one term, e.g. ``ARMCD[TRT]:AVISIT[VIS2]``."""
        if not term.variables:
            return ["Intercept"]
        parts = []
        for name in term.variables:
            var = self.variables[name]
            parts.append(
                [f"{name}[{lvl}]" for lvl in var.coded_levels] if var.is_factor else [name]
            )
        # the last variable varies fastest, matching the row-wise Kronecker product below
        return [":".join(combo) for combo in itertools.product(*parts)]

    @property
    def column_names(self) -> list[str]:
        return [col for term in self.terms for col in self.term_columns(term)]

    def term_slices(self) -> dict[str, slice]:
        """Column range of every term."""
        out, start = {}, 0
        for term in self.terms:
            width = len(self.term_columns(term))
            out[term.name] = slice(start, start + width)
            start += width
        return out

    @property
    def factor_names(self) -> list[str]:
        return [name for name, var in self.variables.items() if var.is_factor]

    @property
    def numeric_names(self) -> list[str]:
        return [name for name, var in self.variables.items() if not var.is_factor]

    # ------------------------------------------------------------------ matrices
    def matrix(
        self,
        data: pd.DataFrame,
        coding: str = "treatment",
        rows: np.ndarray | None = None,
        response: bool = False,
    ) -> np.ndarray:
        """The model matrix of ``data`` (rows with missing values give NaN rows).

        Parameters
        ----------
        data : DataFrame
        coding : {"treatment", "sum"}
            ``"sum"`` (effect coding: the reference level gets -1 in every column of its
            factor) spans the same space; it is used to derive Type 3 hypotheses.
        rows : ndarray of int, optional
            Positional row order of the result (default: the data's order). Building the
            matrix directly in the order the likelihood needs saves a full-size copy.
        response : bool
            Append the response as a last column.
        """
        rows = np.arange(len(data)) if rows is None else np.asarray(rows)
        n = len(rows)
        # per variable, the few 1-D pieces its columns are made of (factor codes or values)
        # in the output order; columns are then filled one at a time to bound memory
        pieces = {}
        for name, var in self.variables.items():
            column = data[name]
            if var.is_factor:
                codes = level_codes(column, var.levels)
                unknown = (codes < 0) & column.notna().to_numpy()
                if unknown.any():
                    bad = sorted(set(column[unknown].astype(str)))
                    raise ValueError(f"{name} has levels not in the model: {bad}")
                pieces[name] = codes[rows]
            else:
                pieces[name] = column.to_numpy(dtype=float, na_value=np.nan)[rows]
        width = len(self.column_names)
        out = np.empty((n, width + int(response)))
        if response:
            out[:, width] = data[self.response].to_numpy(dtype=float, na_value=np.nan)[rows]
        col = 0
        for term in self.terms:
            options = []
            for name in term.variables:
                var = self.variables[name]
                if var.is_factor:
                    options.append([(name, var.levels.index(lvl)) for lvl in var.coded_levels])
                else:
                    options.append([(name, None)])
            for combo in itertools.product(*options):
                target = out[:, col]
                target[:] = 1.0
                for name, level in combo:
                    target *= self._column_piece(name, pieces[name], level, coding)
                col += 1
        return out

    def _column_piece(self, name: str, piece: np.ndarray, level: int | None, coding: str):
        """One variable's contribution to a column: indicator, effect code or values."""
        if level is None:
            return piece
        var = self.variables[name]
        values = (piece == level).astype(float)
        if coding == "sum":
            values[piece == var.levels.index(var.reference)] = -1.0
        values[piece < 0] = np.nan
        return values

    def complete_rows(self, data: pd.DataFrame) -> np.ndarray:
        """Boolean mask of rows with the response and every model variable present."""
        cols = [self.response, *self.variables]
        return data[cols].notna().all(axis=1).to_numpy()
