"""The KPI catalog: named KPIs declared in YAML, checked when loaded.

kpisite ships a standard CRM catalog (kpi/catalog.yml); a project adds or overrides KPIs
in its own files, named by the `catalogs` setting. Every mistake (unknown column or KPI,
type error, cycle) is reported at load time as `file:line: ...` with a hint.

Kinds of KPI:

- `measure`: an aggregation over one table, with a filter and a time column;
- `state`: a count of rows alive at an instant (contacts existing at the period's end);
- `activity`: contacts active at an instant (a completed order in the window before it),
  and the transitions between the period's start and end (churned, activated);
- `formula`: arithmetic over other KPIs.
"""

from __future__ import annotations

import builtins
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kpi import schema
from kpi.errors import CatalogError, did_you_mean, with_hint
from kpi.formula import Ref, RowScope, Typed, compile_row, formula_refs

log = logging.getLogger(__name__)

STANDARD = Path(__file__).with_name("catalog.yml")

KINDS = ("measure", "state", "activity", "formula")
UNITS = ("count", "percent", "currency", "score", "number")
DIRECTIONS = ("higher", "lower", None)
ACTIVITY = ("active", "churned", "activated")

FIELDS = {
    "common": {"kind", "label", "description", "unit", "format", "direction", "target", "empty"},
    "measure": {"table", "time", "filter", "value", "mean_of", "params"},
    "state": {"table", "at", "filter", "params", "valid_from", "valid_to"},
    "activity": {"activity", "at", "window", "include_interactions"},
    "formula": {"formula", "params"},
}

# Many-to-one joins a measure may use: `campaigns.sent_at` in an event measure.
JOINS = {
    "campaign_events": {"campaigns": ("campaign_id",)},
    "survey_responses": {"survey_questions": ("survey_id", "question_id")},
    "orders": {"contacts": ("contact_id",)},
    "order_lines": {"orders": ("order_id",)},
    "interactions": {"contacts": ("contact_id",)},
}

# The dimensions of each table: name -> (joined table or None, column).
CONTACT_DIMENSIONS = {
    "country_code": (None, "country_code"),
    "city": (None, "city"),
    "lead_source": (None, "lead_source"),
    "lifecycle_stage": (None, "lifecycle_stage"),
}
DIMENSIONS: dict[str, dict[str, tuple[str | None, str]]] = {
    "contacts": CONTACT_DIMENSIONS,
    "orders": {
        "channel": (None, "channel"),
        "country_code": (None, "country_code"),
        "currency": (None, "currency"),
        # The buyer's attributes (a guest order has none).
        "city": ("contacts", "city"),
        "lead_source": ("contacts", "lead_source"),
        "lifecycle_stage": ("contacts", "lifecycle_stage"),
    },
    "order_lines": {
        "category": (None, "category"),
        "sku": (None, "sku"),
        "channel": ("orders", "channel"),
        "country_code": ("orders", "country_code"),
    },
    "campaign_events": {
        "campaign": ("campaigns", "name"),
        "campaign_id": (None, "campaign_id"),
        "campaign_channel": ("campaigns", "channel"),
        "campaign_type": ("campaigns", "type"),
    },
    "survey_responses": {
        "platform": (None, "platform"),
        "respondent_country": (None, "respondent_country"),
        "respondent_city": (None, "respondent_city"),
        "answer_choice": (None, "answer_choice"),
        "survey_id": (None, "survey_id"),
        "question_id": (None, "question_id"),
    },
    "interactions": {
        "channel": (None, "channel"),
        "direction": (None, "direction"),
        "type": (None, "type"),
    },
}

REF_TEXT = re.compile(r"^\s*([A-Za-z_]\w*)\s*(?:\((.*)\))?\s*$")


@dataclass
class KpiDef:
    """One KPI of the catalog, as declared, plus what loading it worked out."""

    name: str
    kind: str
    label: str
    description: str = ""
    unit: str = "number"
    format: str | None = None
    direction: str | None = None
    target: float | None = None
    empty: str | None = None
    params: tuple[str, ...] = ()
    spec: dict[str, Any] = field(default_factory=dict)
    file: str = ""
    line: int = 0
    deps: list[Ref] = field(default_factory=list)
    tables: set[str] = field(default_factory=set)
    dimensions: set[str] = field(default_factory=set)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def get(self, key: str, default=None):
        return self.spec.get(key, default)


class Catalog:
    """Every KPI of a project: the standard catalog, then the project's files over it."""

    def __init__(self, kpis: dict[str, KpiDef], files: list[str]):
        self.kpis = kpis
        self.files = files
        self.checked = False

    @classmethod
    def load(cls, paths: list[Path] | None = None, standard: bool = True) -> Catalog:
        """Read catalog files in order (later ones override), then check them all."""
        files = ([STANDARD] if standard else []) + [Path(p) for p in paths or []]
        raw: dict[str, tuple[dict, str, int, dict]] = {}
        for path in files:
            for name, entry in read_catalog_file(path).items():
                raw[name] = merge(raw.get(name), entry)
        kpis = {name: build_kpi(name, *entry) for name, entry in raw.items()}
        catalog = cls(kpis, [str(path) for path in files])
        catalog.check()
        catalog.checked = True
        log.debug("catalog: %d KPIs from %d files", len(kpis), len(files))
        return catalog

    def names(self) -> list[str]:
        return sorted(self.kpis)

    def get(self, name: str) -> KpiDef:
        """The KPI `name` (or `name(arg)`); CatalogError with a hint when unknown."""
        base = REF_TEXT.match(str(name))
        if base and base.group(1) in self.kpis:
            return self.kpis[base.group(1)]
        hint = unknown_kpi_hint(str(name), self.kpis)
        raise CatalogError(with_hint(f"catalog: unknown KPI {name!r}", hint))

    def ref(self, text: str | Ref, where: str = "") -> Ref:
        """Read a KPI reference as written by a page: `revenue`, `completeness(email)`."""
        if isinstance(text, Ref):
            ref = text
        else:
            match = REF_TEXT.match(str(text))
            if not match:
                raise CatalogError(f"{where or 'KPI'} {text!r}: expected a name or name(arg)")
            args = tuple(a.strip() for a in (match.group(2) or "").split(",") if a.strip())
            ref = Ref(match.group(1), args)
        if ref.name not in self.kpis:
            hint = unknown_kpi_hint(ref.name, self.kpis)
            raise CatalogError(with_hint(f"{where or 'catalog'}: unknown KPI {ref.name!r}", hint))
        kpi = self.kpis[ref.name]
        if len(ref.args) != len(kpi.params):
            wanted = f"{kpi.name}({', '.join(kpi.params)})" if kpi.params else kpi.name
            raise CatalogError(f"{where or 'catalog'}: KPI {ref.key!r}: expected {wanted}")
        if ref.args and self.checked:
            self.check_args(ref, where or "catalog")
        return ref

    def check(self) -> None:
        """Resolve formula references, then find cycles, arguments, tables, dimensions."""
        for kpi in self.kpis.values():
            for ref in kpi.deps:
                self.ref(ref, f"{kpi.file}:{kpi.get('_formula_line', kpi.line)}: KPI {kpi.name}")
        for kpi in self.kpis.values():
            self.find_cycle(kpi.name, [])
        for kpi in self.kpis.values():
            for ref in kpi.deps:
                bound = Ref(ref.name, tuple(a for a in ref.args if a not in kpi.params))
                if len(bound.args) == len(ref.args):
                    self.check_args(bound, f"{kpi.file}:{kpi.get('_formula_line')}: KPI {kpi.name}")
        for name in self.kpis:
            self.resolve_reads(name)

    def check_args(self, ref: Ref, where: str) -> None:
        """Each argument of a parameterised KPI must be a column of the table it reads."""
        for leaf in self.leaves(ref):
            table = self.kpis[leaf.name].get("table")
            if not table:
                continue
            columns = schema.TABLES[table].column_names()
            for arg in leaf.args:
                if arg not in columns:
                    hint = did_you_mean(arg, columns)
                    message = f"{where}: {ref.key}: no column {arg!r} in {table}"
                    raise CatalogError(with_hint(message, hint))

    def find_cycle(self, name: str, path: list[str]) -> None:
        if name in path:
            cycle = path[path.index(name) :] + [name]
            first = self.kpis[cycle[0]]
            raise CatalogError(f"{first.where}: cycle {' -> '.join(cycle)}")
        for ref in self.kpis[name].deps:
            self.find_cycle(ref.name, path + [name])

    def resolve_reads(self, name: str) -> tuple[set[str], set[str]]:
        """The tables a KPI reads and the dimensions it can be broken down by."""
        kpi = self.kpis[name]
        if kpi.kind == "formula" and not kpi.tables:
            tables: set[str] = set()
            dimensions: set[str] | None = None
            for ref in kpi.deps:
                dep_tables, dep_dimensions = self.resolve_reads(ref.name)
                tables |= dep_tables
                dimensions = dep_dimensions if dimensions is None else dimensions & dep_dimensions
            kpi.tables, kpi.dimensions = tables, dimensions or set()
        return kpi.tables, kpi.dimensions

    def leaves(self, ref: Ref) -> list[Ref]:
        """The non-formula KPIs a reference depends on, its arguments bound."""
        kpi = self.kpis[ref.name]
        if kpi.kind != "formula":
            return [ref]
        bound = dict(zip(kpi.params, ref.args, strict=True))
        found = []
        for dep in kpi.deps:
            args = tuple(bound.get(arg, arg) for arg in dep.args)
            found.extend(self.leaves(Ref(dep.name, args)))
        return found

    def row_scope(self, kpi: KpiDef, args: tuple[str, ...] = (), where: str = "") -> RowScope:
        table = kpi.get("table")
        params = dict(zip(kpi.params, args, strict=False)) if args else dict.fromkeys(kpi.params)
        return RowScope(table, schema.TABLES, JOINS.get(table, {}), params, where or kpi.where)

    def compile(self, ref: Ref) -> dict[str, Typed]:
        """The checked row expressions of a measure or state, its parameters bound."""
        kpi = self.kpis[ref.name]
        scope = self.row_scope(kpi, ref.args, f"{kpi.where}: KPI {ref.key}")
        return compile_parts(kpi, scope)


def compile_parts(kpi: KpiDef, scope: RowScope) -> dict[str, Typed]:
    parts = {}
    if kpi.get("filter"):
        parts["filter"] = compile_row(kpi.get("filter"), scope)
    if kpi.kind == "measure":
        parts["value"] = compile_row(kpi.get("value", "count()"), scope, aggregate=True)
        parts["time"] = compile_time(kpi.get("time"), scope)
        if kpi.get("mean_of"):
            parts["mean_of"] = compile_value_column(kpi.get("mean_of"), scope)
    return parts


def compile_time(source: str | None, scope: RowScope) -> Typed:
    if not source:
        raise CatalogError(f"{scope.where}: a measure needs a time column (time: ...)")
    from kpi.formula import RowCompiler, parse

    typed = RowCompiler(scope).visit(parse(source, scope.where))
    if typed.type not in ("time", "any"):
        raise CatalogError(f"{scope.where}: time {source!r} is a {typed.type}, not a timestamp")
    return typed


def compile_value_column(source: str, scope: RowScope) -> Typed:
    from kpi.formula import RowCompiler, parse

    typed = RowCompiler(scope).visit(parse(source, scope.where))
    if typed.type not in ("num", "any"):
        raise CatalogError(f"{scope.where}: mean_of {source!r} is a {typed.type}, not a number")
    return typed


# --- Reading YAML with line numbers -----------------------------------------------------


def read_catalog_file(path: Path) -> dict[str, tuple[dict, str, int, dict]]:
    """`name -> (fields, file, line, field lines)` for each KPI of one catalog file."""
    if not path.is_file():
        raise CatalogError(f"{path}: no such catalog file (named in the catalogs setting)")
    text = path.read_text(encoding="utf-8")
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        raise CatalogError(yaml_problem(path, error)) from None
    if root is None:
        return {}
    kpis_node = top_level_kpis(root, path)
    found = {}
    for key_node, value_node in kpis_node.value:
        name = key_node.value
        line = key_node.start_mark.line + 1
        if not isinstance(value_node, yaml.MappingNode):
            raise CatalogError(f"{path}:{line}: KPI {name}: expected a mapping of fields")
        fields_, lines = read_fields(value_node, path)
        found[name] = (fields_, str(path), line, lines)
    return found


def yaml_problem(path: Path, error: yaml.YAMLError) -> str:
    """`file:line: not valid YAML: problem (column n)`, not PyYAML's "<unicode string>"."""
    mark = getattr(error, "problem_mark", None)
    if mark is None:
        return f"{path}: not valid YAML: {error}"
    problem = getattr(error, "problem", None) or "cannot read this line"
    context = getattr(error, "context", None)
    message = f"{path}:{mark.line + 1}: not valid YAML: {problem}"
    if context:
        message += f" ({context.rstrip()}, column {mark.column + 1})"
    else:
        message += f" (column {mark.column + 1})"
    return message


def unknown_kpi_hint(name: str, kpis) -> str:
    """The closest KPI name, else where KPIs come from (and the functions of a formula)."""
    if name.startswith("_") or name in dir(builtins):
        return "a formula names KPIs of the catalog and the functions round() and abs()"
    return did_you_mean(name, kpis) or (
        "declare it under 'kpis:' in a file of the catalogs setting, "
        "or use a KPI of kpi/catalog.yml"
    )


def top_level_kpis(root: yaml.Node, path: Path) -> yaml.MappingNode:
    if isinstance(root, yaml.MappingNode):
        for key_node, value_node in root.value:
            if key_node.value == "kpis" and isinstance(value_node, yaml.MappingNode):
                return value_node
    line = root.start_mark.line + 1
    raise CatalogError(f"{path}:{line}: expected a top-level 'kpis:' mapping of KPI names")


def read_fields(node: yaml.MappingNode, path: Path) -> tuple[dict, dict]:
    loader_value = yaml.SafeLoader("")
    fields_, lines = {}, {}
    for key_node, value_node in node.value:
        fields_[key_node.value] = loader_value.construct_object(value_node, deep=True)
        lines[key_node.value] = value_node.start_mark.line + 1
    loader_value.dispose()
    return fields_, lines


def merge(base: tuple | None, entry: tuple) -> tuple:
    """A project entry overrides a standard one field by field, unless it changes kind."""
    if base is None:
        return entry
    fields_, file, line, lines = entry
    if "kind" in fields_ and fields_["kind"] != base[0].get("kind"):
        return entry
    return ({**base[0], **fields_}, file, line, {**base[3], **lines})


# --- Building one KPI ---------------------------------------------------------------------


def build_kpi(name: str, fields_: dict, file: str, line: int, lines: dict) -> KpiDef:
    where = f"{file}:{line}: KPI {name}"
    kind = fields_.get("kind", "formula" if "formula" in fields_ else "measure")
    check_fields(name, kind, fields_, file, lines)
    params = fields_.get("params") or ()
    params = (params,) if isinstance(params, str) else tuple(params)
    kpi = KpiDef(
        name=name,
        kind=kind,
        label=str(fields_.get("label") or name),
        description=str(fields_.get("description") or ""),
        unit=choice(fields_.get("unit", "number"), UNITS, f"{where}: unit"),
        format=fields_.get("format"),
        direction=choice(fields_.get("direction"), DIRECTIONS, f"{where}: direction"),
        target=fields_.get("target"),
        empty=fields_.get("empty"),
        params=params,
        spec={**fields_, "_formula_line": lines.get("formula", line)},
        file=file,
        line=line,
    )
    BUILDERS[kind](kpi, lines)
    return kpi


def check_fields(name: str, kind: str, fields_: dict, file: str, lines: dict) -> None:
    if kind not in KINDS:
        line = lines.get("kind", 0)
        hint = did_you_mean(str(kind), KINDS)
        raise CatalogError(with_hint(f"{file}:{line}: KPI {name}: unknown kind {kind!r}", hint))
    allowed = FIELDS["common"] | FIELDS[kind]
    for key in fields_:
        if key not in allowed:
            hint = did_you_mean(key, allowed)
            message = f"{file}:{lines[key]}: KPI {name}: unknown field {key!r}"
            raise CatalogError(with_hint(message, hint))


def choice(value, allowed, where: str):
    if value not in allowed:
        shown = [a for a in allowed if a is not None]
        raise CatalogError(f"{where}: {value!r} is not one of {', '.join(shown)}")
    return value


def build_measure(kpi: KpiDef, lines: dict) -> None:
    table = kpi.get("table")
    check_table(kpi, table, lines)
    scope = RowScope(
        table, schema.TABLES, JOINS.get(table, {}), dict.fromkeys(kpi.params), kpi.where
    )
    for part in ("filter", "value", "time", "mean_of"):
        scope.where = f"{kpi.file}:{lines.get(part, kpi.line)}: KPI {kpi.name}: {part}"
        compile_parts_one(kpi, part, scope)
    kpi.tables = {table} | scope.used_joins
    kpi.dimensions = set(DIMENSIONS.get(table, {}))


def compile_parts_one(kpi: KpiDef, part: str, scope: RowScope) -> None:
    if part == "filter" and kpi.get("filter"):
        compile_row(kpi.get("filter"), scope)
    elif part == "value":
        compile_row(kpi.get("value", "count()"), scope, aggregate=True)
    elif part == "time":
        compile_time(kpi.get("time"), scope)
    elif part == "mean_of" and kpi.get("mean_of"):
        compile_value_column(kpi.get("mean_of"), scope)


def build_state(kpi: KpiDef, lines: dict) -> None:
    table = kpi.spec.setdefault("table", "contacts")
    check_table(kpi, table, lines)
    kpi.spec.setdefault("valid_from", "created_at")
    kpi.spec.setdefault("valid_to", "deleted_at")
    kpi.spec.setdefault("at", "end")
    choice(kpi.get("at"), ("start", "end"), f"{kpi.where}: at")
    scope = RowScope(table, schema.TABLES, {}, dict.fromkeys(kpi.params), kpi.where)
    for column in (kpi.get("valid_from"), kpi.get("valid_to")):
        if scope.column_type(None, column) != "time":
            raise CatalogError(f"{kpi.where}: {column} is not a timestamp of {table}")
    if kpi.get("filter"):
        scope.where = f"{kpi.file}:{lines.get('filter', kpi.line)}: KPI {kpi.name}: filter"
        compile_row(kpi.get("filter"), scope)
    kpi.tables = {table}
    kpi.dimensions = set(DIMENSIONS.get(table, {}))


def build_activity(kpi: KpiDef, lines: dict) -> None:
    choice(kpi.get("activity"), ACTIVITY, f"{kpi.file}:{lines.get('activity', kpi.line)}")
    kpi.spec.setdefault("at", "end")
    choice(kpi.get("at"), ("start", "end"), f"{kpi.where}: at")
    kpi.tables = {"orders"}
    kpi.dimensions = set(CONTACT_DIMENSIONS)


def build_formula(kpi: KpiDef, lines: dict) -> None:
    where = f"{kpi.file}:{lines.get('formula', kpi.line)}: KPI {kpi.name}"
    if not kpi.get("formula"):
        raise CatalogError(f"{where}: a formula KPI needs a formula")
    kpi.deps = [ref for ref, _ in formula_refs(str(kpi.get("formula")), kpi.params, where)]


def check_table(kpi: KpiDef, table: str | None, lines: dict) -> None:
    if table not in schema.TABLES:
        line = lines.get("table", kpi.line)
        hint = did_you_mean(str(table), schema.TABLES)
        message = f"{kpi.file}:{line}: KPI {kpi.name}: unknown table {table!r}"
        raise CatalogError(with_hint(message, hint))


BUILDERS = {
    "measure": build_measure,
    "state": build_state,
    "activity": build_activity,
    "formula": build_formula,
}
