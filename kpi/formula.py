"""The small expression language of the catalog, parsed safely with `ast` (never `eval`).

Two kinds of expression are written in catalog files:

- row expressions, over the columns of a table: the `filter` of a measure
  (`status == "completed" and not is_test`) and its `value` (`count()`,
  `sum(total_amount)`, `count_distinct(campaign_id, contact_id)`). A column of a joined
  table is written `table.column` (`campaigns.sent_at`). They compile to ibis expressions;
- formulas, over other KPIs: `revenue / orders_count`,
  `round(100 * (nps_promoters - nps_detractors) / nps_responses)`,
  `filled_contacts(field) / contacts_existing`. They are evaluated in exact decimal
  arithmetic on the KPI values; a zero denominator gives n/a with its reason.

Only the node types listed below are accepted; anything else is a CatalogError naming
the construct, so a catalog cannot run arbitrary code.
"""

from __future__ import annotations

import ast
import keyword
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, DivisionByZero, InvalidOperation

import ibis

from kpi.errors import CatalogError, did_you_mean, with_hint

# Column kinds of kpi.schema, reduced to the types that expressions check.
KIND_TYPES = {
    "id": "str",
    "string": "str",
    "timestamp": "time",
    "money": "num",
    "int": "num",
    "number": "num",
    "bool": "bool",
}

COMPARE = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
}

ARITHMETIC = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}

AGGREGATES = ("count", "sum", "mean", "min", "max", "count_distinct")
ROW_FUNCTIONS = ("is_null", "not_null", "is_blank", "lower", "upper", "strip", "coalesce")


def parse(source: str, where: str) -> ast.expr:
    """Parse one expression, or raise CatalogError at `where`."""
    try:
        tree = ast.parse(str(source).strip(), mode="eval")
    except SyntaxError as error:
        raise CatalogError(f"{where}: cannot read {source!r}: {error.msg}") from None
    return tree.body


# Operators Python reads and catalog expressions do not take, as the author wrote them.
REFUSED_OPERATORS = {
    ast.Pow: "**",
    ast.Mod: "%",
    ast.FloorDiv: "//",
    ast.MatMult: "@",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.Invert: "~",
    ast.UAdd: "+",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.In: "in",
    ast.NotIn: "not in",
}


def unsupported(node: ast.AST, where: str) -> CatalogError:
    """The error for a construct catalog expressions do not take, named as written (an
    operator by its symbol, anything else by its source), not by Python's grammar."""
    if isinstance(node, ast.BinOp | ast.UnaryOp) and type(node.op) in REFUSED_OPERATORS:
        node = node.op
    if isinstance(node, ast.expr):
        construct = repr(ast.unparse(node))
    else:
        unary = "unary " if isinstance(node, ast.unaryop) else ""
        symbol = REFUSED_OPERATORS.get(type(node), type(node).__name__)
        construct = f"the {unary}operator '{symbol}'"
    return CatalogError(
        f"{where}: {construct} is not allowed in a catalog expression "
        "(expected names, numbers, strings, comparisons, and/or/not, + - * /, "
        "and the functions of doc/catalog.md)"
    )


# --- Row expressions --------------------------------------------------------------------


@dataclass(frozen=True)
class Typed:
    """A checked row expression: its type and how to build it over an ibis table."""

    type: str
    build: Callable[[RowEnv], ibis.Expr]
    aggregate: bool = False
    name: str | None = None  # the aggregate function, for a measure's value
    args: tuple = ()  # the aggregate's arguments (Typed), for count_distinct keys


@dataclass
class RowEnv:
    """What building a row expression needs at run time.

    `column(table, name)` returns the ibis column (table None = the measure's own table);
    `params` maps a KPI parameter to the column it names; `placeholders` feed is_blank.
    """

    column: Callable[[str | None, str], ibis.Expr]
    placeholders: tuple[str, ...] = ()
    table: ibis.Table | None = None


class RowScope:
    """What checking a row expression needs at load time: the columns it may name."""

    def __init__(self, table: str, tables: dict, joins: dict, params: dict, where: str):
        self.table = table
        self.tables = tables  # name -> kpi.schema.Table
        self.joins = joins  # joinable table name -> join key columns
        self.params = params  # parameter name -> column name
        self.where = where
        self.used_joins: set[str] = set()

    def column_type(self, table: str | None, name: str | None) -> str:
        if name is None:
            return "any"  # a parameter, checked when a page names its column
        if table is not None and table not in self.joins:
            hint = did_you_mean(table, self.joins) or "this table joins no other table"
            raise CatalogError(f"{self.where}: {self.table} cannot join {table!r} ({hint})")
        schema = self.tables[table or self.table]
        names = schema.column_names()
        if name not in names:
            hint = did_you_mean(name, names)
            message = f"{self.where}: unknown column {name!r} in {schema.name}"
            raise CatalogError(with_hint(message, hint))
        if table is not None:
            self.used_joins.add(table)
        return KIND_TYPES[schema.column(name).kind]


def compile_row(source: str, scope: RowScope, aggregate: bool = False) -> Typed:
    """Check a row expression (a filter, or with `aggregate` a measure's value)."""
    typed = RowCompiler(scope).visit(parse(source, scope.where), top=True)
    if aggregate and not typed.aggregate:
        raise CatalogError(
            f"{scope.where}: {source!r} is not an aggregate "
            f"(expected one of: {', '.join(a + '(...)' for a in AGGREGATES)})"
        )
    if not aggregate and typed.type != "bool":
        raise CatalogError(f"{scope.where}: filter {source!r} is a {typed.type}, not a condition")
    return typed


class RowCompiler:
    """Turns a whitelisted Python AST into a Typed ibis expression builder."""

    def __init__(self, scope: RowScope):
        self.scope = scope

    def fail(self, message: str) -> CatalogError:
        return CatalogError(f"{self.scope.where}: {message}")

    def visit(self, node: ast.AST, top: bool = False) -> Typed:
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is None:
            raise unsupported(node, self.scope.where)
        if isinstance(node, ast.Call):
            return method(node, top)
        return method(node)

    def visit_Constant(self, node: ast.Constant) -> Typed:
        value = node.value
        if value is None:
            return Typed("null", lambda env: ibis.null())
        kind = (
            "bool"
            if isinstance(value, bool)
            else "num"
            if isinstance(value, int | float)
            else "str"
            if isinstance(value, str)
            else None
        )
        if kind is None:
            raise self.fail(f"constant {value!r} is not a number, string, boolean or None")
        return Typed(kind, lambda env: ibis.literal(value))

    def visit_Name(self, node: ast.Name) -> Typed:
        name = self.scope.params.get(node.id, node.id)
        kind = self.scope.column_type(None, name)
        return Typed(kind, lambda env: env.column(None, name))

    def visit_Attribute(self, node: ast.Attribute) -> Typed:
        if not isinstance(node.value, ast.Name):
            raise self.fail("only table.column is allowed after a dot")
        table, name = node.value.id, node.attr
        kind = self.scope.column_type(table, name)
        return Typed(kind, lambda env: env.column(table, name))

    def visit_BoolOp(self, node: ast.BoolOp) -> Typed:
        parts = [self.condition(value) for value in node.values]
        joiner = (lambda a, b: a & b) if isinstance(node.op, ast.And) else (lambda a, b: a | b)

        def build(env):
            result = parts[0].build(env)
            for part in parts[1:]:
                result = joiner(result, part.build(env))
            return result

        return Typed("bool", build)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Typed:
        operand = self.visit(node.operand)
        if isinstance(node.op, ast.Not):
            operand = self.condition(node.operand, operand)
            # A null boolean (is_test unknown) counts as false, so `not is_test` keeps it.
            return Typed("bool", lambda env: ~operand.build(env).fill_null(False))
        if isinstance(node.op, ast.USub) and operand.type == "num":
            return Typed("num", lambda env: -operand.build(env))
        raise unsupported(node.op, self.scope.where)

    def condition(self, node: ast.AST, typed: Typed | None = None) -> Typed:
        typed = typed or self.visit(node)
        if typed.type != "bool":
            raise self.fail(f"{ast.unparse(node)!r} is a {typed.type}, not a condition")
        return typed

    def visit_BinOp(self, node: ast.BinOp) -> Typed:
        op = ARITHMETIC.get(type(node.op))
        left, right = self.visit(node.left), self.visit(node.right)
        if op is None:
            raise unsupported(node.op, self.scope.where)
        for side, operand in (("left", left), ("right", right)):
            if operand.type not in ("num", "any"):
                raise self.fail(f"{ast.unparse(node)!r}: the {side} side of {op} is not a number")
        functions = {
            "+": lambda a, b: a + b,
            "-": lambda a, b: a - b,
            "*": lambda a, b: a * b,
            "/": lambda a, b: a / b.nullif(0),
        }
        apply = functions[op]
        aggregate = left.aggregate or right.aggregate
        return Typed("num", lambda env: apply(left.build(env), right.build(env)), aggregate)

    def visit_Compare(self, node: ast.Compare) -> Typed:
        if len(node.ops) != 1:
            raise self.fail(f"{ast.unparse(node)!r}: chain comparisons with 'and'")
        op, right_node = node.ops[0], node.comparators[0]
        left = self.visit(node.left)
        if isinstance(op, ast.In | ast.NotIn):
            return self.membership(node, left, op, right_node)
        right = self.visit(right_node)
        symbol = COMPARE.get(type(op))
        if symbol is None:
            raise unsupported(op, self.scope.where)
        if "null" in (left.type, right.type):
            return self.null_test(left, right, symbol)
        if left.type != right.type and "any" not in (left.type, right.type):
            raise self.fail(f"{ast.unparse(node)!r} compares a {left.type} with a {right.type}")
        compare = {
            "==": lambda a, b: a == b,
            "!=": lambda a, b: a != b,
            "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b,
            ">": lambda a, b: a > b,
            ">=": lambda a, b: a >= b,
        }[symbol]
        return Typed("bool", lambda env: compare(left.build(env), right.build(env)))

    def null_test(self, left: Typed, right: Typed, symbol: str) -> Typed:
        operand = right if left.type == "null" else left
        if symbol == "==":
            return Typed("bool", lambda env: operand.build(env).isnull())
        if symbol == "!=":
            return Typed("bool", lambda env: operand.build(env).notnull())
        raise self.fail(f"None can only be compared with == or !=, not {symbol}")

    def membership(self, node, left: Typed, op, right_node) -> Typed:
        if not isinstance(right_node, ast.List | ast.Tuple | ast.Set):
            raise self.fail(f"{ast.unparse(node)!r}: 'in' needs a list of constants")
        values = []
        for element in right_node.elts:
            constant = self.visit(element)
            if not isinstance(element, ast.Constant) or constant.type not in (left.type, "any"):
                raise self.fail(f"{ast.unparse(node)!r}: expected {left.type} constants")
            values.append(element.value)
        negate = isinstance(op, ast.NotIn)

        def build(env):
            test = left.build(env).isin(values)
            return ~test if negate else test

        return Typed("bool", build)

    def visit_Call(self, node: ast.Call, top: bool = False) -> Typed:
        if not isinstance(node.func, ast.Name) or node.keywords:
            raise self.fail(f"{ast.unparse(node)!r}: expected a function name and arguments")
        name = node.func.id
        if name in AGGREGATES:
            return self.aggregate(name, node)
        if name not in ROW_FUNCTIONS:
            hint = did_you_mean(name, AGGREGATES + ROW_FUNCTIONS)
            raise self.fail(with_hint(f"unknown function {name!r}", hint))
        args = [self.visit(arg) for arg in node.args]
        return getattr(self, "fn_" + name)(node, args)

    def expect_args(self, node, args, count: int, types=None) -> None:
        if len(args) != count:
            raise self.fail(f"{ast.unparse(node)!r}: expected {count} argument(s)")
        for arg in args:
            if types and arg.type not in (*types, "any"):
                raise self.fail(f"{ast.unparse(node)!r}: expected a {' or '.join(types)}")

    def fn_is_null(self, node, args) -> Typed:
        self.expect_args(node, args, 1)
        return Typed("bool", lambda env: args[0].build(env).isnull())

    def fn_not_null(self, node, args) -> Typed:
        self.expect_args(node, args, 1)
        return Typed("bool", lambda env: args[0].build(env).notnull())

    def fn_is_blank(self, node, args) -> Typed:
        """Null, empty, whitespace, or a placeholder ("n/a", "-"...), case-insensitive."""
        self.expect_args(node, args, 1)
        if args[0].type != "str":
            return Typed("bool", lambda env: args[0].build(env).isnull())

        def build(env):
            column = args[0].build(env)
            placeholders = [p.strip().lower() for p in env.placeholders] + [""]
            # Test null on the column itself: the trimmed text is then computed once.
            return column.isnull() | column.strip().lower().isin(placeholders)

        return Typed("bool", build)

    def fn_lower(self, node, args) -> Typed:
        self.expect_args(node, args, 1, ("str",))
        return Typed("str", lambda env: args[0].build(env).lower())

    def fn_upper(self, node, args) -> Typed:
        self.expect_args(node, args, 1, ("str",))
        return Typed("str", lambda env: args[0].build(env).upper())

    def fn_strip(self, node, args) -> Typed:
        self.expect_args(node, args, 1, ("str",))
        return Typed("str", lambda env: args[0].build(env).strip())

    def fn_coalesce(self, node, args) -> Typed:
        if len(args) < 2 or len({arg.type for arg in args} - {"null"}) > 1:
            raise self.fail(f"{ast.unparse(node)!r}: expected 2+ arguments of one type")
        kind = next(arg.type for arg in args if arg.type != "null")
        return Typed(kind, lambda env: ibis.coalesce(*[arg.build(env) for arg in args]))

    def aggregate(self, name: str, node: ast.Call) -> Typed:
        args = [self.visit(arg) for arg in node.args]
        if any(arg.aggregate for arg in args):
            raise self.fail(f"{ast.unparse(node)!r}: an aggregate inside an aggregate")
        if name == "count":
            self.expect_args(node, args, 0)
            return AggregateTyped(name, args)
        if name == "count_distinct":
            if not args:
                raise self.fail(f"{ast.unparse(node)!r}: expected 1+ columns")
            return AggregateTyped(name, args)
        self.expect_args(node, args, 1, ("num",) if name in ("sum", "mean") else None)
        return AggregateTyped(name, args)


def AggregateTyped(name: str, args: list[Typed]) -> Typed:  # noqa: N802 (a Typed factory)
    """An aggregate builder: `build(env)` returns a function of the `where` condition."""

    def build(env):
        values = [arg.build(env) for arg in args]

        def with_where(where):
            if name == "count":
                return env.table.count(where=where)
            if name == "count_distinct":
                # Rows with a null part are not a pair: they are left out, like COUNT DISTINCT.
                present = where
                for value in values:
                    present = present & value.notnull()
                key = values[0] if len(values) == 1 else ibis.struct(dict(enumerate_names(values)))
                return key.nunique(where=present)
            if name == "mean":
                # On a decimal column ibis keeps the column's scale (66.60 for 66.5953...):
                # the mean is computed unrounded, only its display is rounded.
                return values[0].cast("float64").mean(where=where)
            return getattr(values[0], name)(where=where)

        return with_where

    return Typed("num", build, aggregate=True, name=name, args=tuple(args))


def enumerate_names(values):
    return [(f"k{index}", value) for index, value in enumerate(values)]


# --- Formulas over KPIs ---------------------------------------------------------------


@dataclass(frozen=True)
class Ref:
    """A reference to a KPI in a formula, with its arguments (`filled_contacts(email)`)."""

    name: str
    args: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.name}({', '.join(self.args)})" if self.args else self.name


FORMULA_FUNCTIONS = ("round", "abs")


def referenced_kpi(node: ast.AST) -> str | None:
    """The KPI a node of a checked formula names: a name, or the call of a parameterised
    KPI; None for anything else, round() and abs() included."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Call) and node.func.id not in FORMULA_FUNCTIONS:
        return node.func.id
    return None


# What a formula, a page and `kpisite query` can name: ASCII letters, digits and _, not
# starting with a digit (Python's own names also take "é", which no page reader does),
# and neither a word of the language (and, not, None...) nor a formula function.
NAME = r"[A-Za-z_][A-Za-z0-9_]*"
NAME_TEXT = re.compile(rf"^{NAME}$")


def name_problem(name: str) -> str | None:
    """Why `name` cannot name a KPI, or None when it can."""
    if not NAME_TEXT.match(name):
        return (
            "not a usable name (expected ASCII letters, digits and _, not starting with a "
            "digit, as formulas and pages write KPI names)"
        )
    if keyword.iskeyword(name) or name in FORMULA_FUNCTIONS:
        return "not a usable name (a word of the formula language: a formula could not name it)"
    return None


def usable_name(name: str) -> str:
    """A name close to `name` that can name a KPI: "Chiffre d'affaires" -> "chiffre_d_affaires",
    "1bad" -> "kpi_1bad", "if" -> "if_kpi"."""
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    text = re.sub(r"[^A-Za-z0-9_]+", "_", ascii_text).strip("_").lower() or "kpi"
    if text[0].isdigit():
        text = "kpi_" + text
    return text + "_kpi" if name_problem(text) else text


def formula_refs(source: str, params: tuple[str, ...], where: str) -> list[tuple[Ref, int]]:
    """The KPI references of a formula with their column offsets; checks the syntax."""
    found = []
    check_formula(parse(source, where), params, where, found)
    return found


def check_formula(node: ast.AST, params, where: str, found: list) -> None:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise CatalogError(f"{where}: constant {node.value!r} in a formula is not a number")
    elif isinstance(node, ast.Name):
        found.append((Ref(node.id), node.col_offset))
    elif isinstance(node, ast.BinOp) and type(node.op) in ARITHMETIC:
        check_formula(node.left, params, where, found)
        check_formula(node.right, params, where, found)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        check_formula(node.operand, params, where, found)
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        check_call(node, params, where, found)
    else:
        raise unsupported(node, where)


def check_call(node: ast.Call, params, where: str, found: list) -> None:
    name = node.func.id
    if name in FORMULA_FUNCTIONS:
        if len(node.args) != 1:
            raise CatalogError(f"{where}: {name}() takes one argument")
        check_formula(node.args[0], params, where, found)
        return
    # A parameterised KPI: its arguments are column names, or the caller's parameters.
    args = []
    for arg in node.args:
        if not isinstance(arg, ast.Name | ast.Constant):
            raise CatalogError(f"{where}: arguments of {name}() must be names")
        args.append(arg.id if isinstance(arg, ast.Name) else str(arg.value))
    found.append((Ref(name, tuple(args)), node.col_offset))


class NotAvailable(Exception):  # noqa: N818 (a value, not an error)
    """A formula met an n/a input or a zero denominator; carries the reason."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def evaluate_formula(
    source: str,
    lookup: Callable[[Ref], Decimal],
    zero_reason: Callable[[ast.AST], str],
) -> Decimal:
    """Evaluate a checked formula in exact decimal arithmetic.

    `lookup(ref)` returns a KPI's value as a Decimal or raises NotAvailable; a zero
    denominator raises NotAvailable with `zero_reason(denominator node)`.
    """
    return FormulaEvaluator(lookup, zero_reason).visit(parse(source, "formula"))


class FormulaEvaluator:
    def __init__(self, lookup, zero_reason):
        self.lookup = lookup
        self.zero_reason = zero_reason

    def visit(self, node: ast.AST) -> Decimal:
        if isinstance(node, ast.Constant):
            return Decimal(str(node.value))
        if isinstance(node, ast.Name):
            return self.lookup(Ref(node.id))
        if isinstance(node, ast.UnaryOp):
            value = self.visit(node.operand)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BinOp):
            return self.binary(node)
        return self.call(node)

    def binary(self, node: ast.BinOp) -> Decimal:
        left, right = self.visit(node.left), self.visit(node.right)
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            return left * right
        if right == 0:
            raise NotAvailable(self.zero_reason(node.right))
        try:
            return left / right
        except (DivisionByZero, InvalidOperation):
            raise NotAvailable(self.zero_reason(node.right)) from None

    def call(self, node: ast.Call) -> Decimal:
        name = node.func.id
        if name == "round":
            # Half away from zero, once, on the exact decimal (Python's round() is banker's).
            return self.visit(node.args[0]).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        if name == "abs":
            return abs(self.visit(node.args[0]))
        args = [arg.id if isinstance(arg, ast.Name) else str(arg.value) for arg in node.args]
        return self.lookup(Ref(name, tuple(args)))
