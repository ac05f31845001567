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

import ast
import builtins
import logging
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from kpi import reasons, schema
from kpi.errors import CatalogError, Problem, closest, did_you_mean, utf8_problem, with_hint
from kpi.formula import (
    NAME,
    Ref,
    RowScope,
    Typed,
    compile_row,
    formula_refs,
    name_problem,
    parse,
    referenced_kpi,
    usable_name,
)

if TYPE_CHECKING:
    from kpi.project import Project

log = logging.getLogger(__name__)

STANDARD = Path(__file__).with_name("catalog.yml")
# The standard catalog's words (label, description, empty) in other languages than its
# French, read over it for a project in that language (the `locale` setting).
TRANSLATIONS = {"en": Path(__file__).with_name("catalog.en.yml")}

KINDS = ("measure", "state", "activity", "formula")
UNITS = ("count", "percent", "currency", "score", "number")
DIRECTIONS = ("higher", "lower", None)
ACTIVITY = ("active", "churned", "activated")

FIELDS = {
    "common": {"kind", "label", "description", "unit", "format", "direction", "target", "empty"},
    "measure": {"table", "time", "filter", "value", "mean_of", "among", "params"},
    "state": {"table", "at", "filter", "params", "valid_from", "valid_to"},
    "activity": {"activity", "at", "window", "include_interactions"},
    "formula": {"formula", "params"},
}

ALL_FIELDS = set().union(*FIELDS.values())
# The field that says which kind a KPI is when `kind` is not written.
DEFINING = {"formula": "formula", "activity": "activity"}
# Aggregates whose members add up to the total (a share of it means something).
ADDITIVE = ("count", "count_distinct", "sum")

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

REF_TEXT = re.compile(rf"^\s*({NAME})\s*(?:\((.*)\))?\s*$")


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
    # field -> "file:line" of its value (an override may come from another file).
    lines: dict[str, str] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def at(self, key: str) -> str:
        """`file:line: KPI name` of a field, else of the KPI."""
        return f"{self.lines.get(key, self.where)}: KPI {self.name}"

    def get(self, key: str, default=None):
        return self.spec.get(key, default)


class Catalog:
    """Every KPI of a project: the standard catalog, then the project's files over it."""

    def __init__(self, kpis: dict[str, KpiDef], files: list[str], broken: set[str] = frozenset()):
        self.kpis = kpis
        self.files = files
        self.checked = False
        # KPIs declared with an error (reported): formulas naming them say nothing more.
        self.broken = set(broken)

    @classmethod
    def load(
        cls, paths: list[Path] | None = None, standard: bool = True, language: str = "fr"
    ) -> Catalog:
        """Read catalog files in order (later ones override), then check them all: the
        standard catalog, its words in `language` if it has them, then `paths`.

        Every error of every file is collected and reported in one CatalogError, like
        the directive errors of the pages: one run shows all there is to fix.
        """
        translation = TRANSLATIONS.get(language) if standard else None
        files = ([STANDARD] if standard else []) + ([translation] if translation else [])
        files += [Path(p) for p in paths or []]
        errors: list[str] = []
        kpis, broken = {}, set()
        raw = read_entries(files, translation, errors, broken)

        for name, entry in raw.items():
            kpi = build_kpi(name, entry, errors)
            if kpi is None:
                broken.add(name)
            else:
                kpis[name] = kpi
        catalog = cls(kpis, [str(path) for path in files], broken)
        errors.extend(catalog.check())
        if errors:
            raise catalog_error(errors, catalog.files)
        catalog.checked = True
        log.debug("catalog: %d KPIs from %d files", len(kpis), len(files))
        return catalog

    @classmethod
    def of_project(cls, project: Project) -> Catalog:
        """The catalog a project's KPIs are computed with: the standard one, in the
        project's language when it has it, then the project's files (`catalogs`)."""
        paths = [project.path(p) for p in project.settings.catalogs]
        return cls.load(paths, language=reasons.language(project.settings.locale))

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
            raise CatalogError(f"{where or 'catalog'}: {self.parameters_problem(kpi, ref)}")
        if ref.args and self.checked:
            self.check_args(ref, where or "catalog")
        return ref

    def parameters_problem(self, kpi: KpiDef, ref: Ref) -> str:
        """What a reference with the wrong number of arguments should have written:
        "KPI revenue takes no parameter (write revenue, not revenue(x))", "KPI
        completeness takes one parameter, field (a column of contacts): write
        completeness(field)"."""
        if not kpi.params:
            return f"KPI {kpi.name} takes no parameter (write {kpi.name}, not {ref.key})"
        tables = self.parameter_tables(kpi)
        count = "one parameter" if len(kpi.params) == 1 else f"{len(kpi.params)} parameters"
        described = ", ".join(
            f"{param} (a column of {tables[param]})" if param in tables else param
            for param in kpi.params
        )
        wanted = f"{kpi.name}({', '.join(kpi.params)})"
        written = f", not {ref.key}" if ref.args else ""
        return f"KPI {kpi.name} takes {count}, {described}: write {wanted}{written}"

    def parameter_tables(self, kpi: KpiDef) -> dict[str, str]:
        """The table whose column each parameter of a KPI names (completeness: contacts),
        followed through the formulas it is passed to. Called before cycles and unknown
        KPIs are reported, so each KPI is visited once and a missing one skipped."""
        found: dict[str, str] = {}
        pending, seen = [(kpi, {p: p for p in kpi.params})], set()
        while pending:
            current, passed = pending.pop()
            if current.name in seen:
                continue
            seen.add(current.name)
            if current.kind != "formula" and current.get("table"):
                for original in passed.values():
                    found.setdefault(original, current.get("table"))
            for dep in current.deps:
                if dep.name in self.kpis:
                    params = self.kpis[dep.name].params
                    given = {
                        own: passed[arg]
                        for own, arg in zip(params, dep.args, strict=False)
                        if arg in passed
                    }
                    pending.append((self.kpis[dep.name], given))
        return found

    def check(self) -> list[str]:
        """Resolve formula references, then find cycles, arguments, tables, dimensions;
        the errors found, each once. A KPI with an error is left out of the catalog."""
        errors: list[str] = []
        for kpi in list(self.kpis.values()):
            for ref in kpi.deps:
                if ref.name in self.broken:
                    continue
                try:
                    self.ref(ref, kpi.at("formula"))
                except CatalogError as error:
                    errors.append(str(error))
                    self.drop(kpi.name)
        for kpi in list(self.kpis.values()):
            try:
                self.find_cycle(kpi.name, [])
            except CatalogError as error:
                errors.append(str(error))
                self.drop(kpi.name)
        for kpi in list(self.kpis.values()):
            try:
                self.check_deps(kpi)
            except CatalogError as error:
                errors.append(str(error))
                self.drop(kpi.name)
        self.drop_dependents()
        for name in self.kpis:
            self.resolve_reads(name)
        return list(dict.fromkeys(errors))

    def drop_dependents(self) -> None:
        """Leave out, until none is left, the formulas that read a KPI left out."""
        while True:
            orphans = [
                kpi.name
                for kpi in self.kpis.values()
                if any(ref.name not in self.kpis for ref in kpi.deps)
            ]
            if not orphans:
                return
            for name in orphans:
                self.drop(name)

    def drop(self, name: str) -> None:
        if name in self.kpis:
            del self.kpis[name]
            self.broken.add(name)

    def check_deps(self, kpi: KpiDef) -> None:
        """A formula's references: known (or broken, reported already), their arguments
        columns of the tables read."""
        if self.reads_a_gap(kpi):
            return  # an input, however deep, has an error of its own, reported
        for ref in kpi.deps:
            bound = Ref(ref.name, tuple(a for a in ref.args if a not in kpi.params))
            if len(bound.args) == len(ref.args):
                self.check_args(bound, kpi.at("formula"))

    def reads_a_gap(self, kpi: KpiDef) -> bool:
        """Whether a formula reads, directly or through others, a KPI left out: the walk
        to its leaves (check_args) would meet the gap. Cycles are left out by then."""
        return any(
            ref.name not in self.kpis or self.reads_a_gap(self.kpis[ref.name]) for ref in kpi.deps
        )

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
            if ref.name in self.kpis:
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

    def additive(self, name: str) -> bool:
        """True when the KPI's members add up to its total: a count or a sum (a measure
        counting or summing, a state, an activity count, or a formula adding and
        subtracting such KPIs), not a ratio, a mean or a score."""
        kpi = self.kpis[name]
        if kpi.kind in ("state", "activity"):
            return True
        if kpi.kind == "measure":
            value = compile_row(kpi.get("value", "count()"), self.row_scope(kpi), aggregate=True)
            return value.name in ADDITIVE
        return self.additive_formula(parse(str(kpi.get("formula")), kpi.where))

    def additive_formula(self, node: ast.AST) -> bool:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
            return self.additive_formula(node.left) and self.additive_formula(node.right)
        if isinstance(node, ast.UnaryOp):
            return self.additive_formula(node.operand)
        name = referenced_kpi(node)
        return name is not None and self.additive(name)

    def row_scope(self, kpi: KpiDef, args: tuple[str, ...] = (), where: str = "") -> RowScope:
        table = kpi.get("table")
        params = dict(zip(kpi.params, args, strict=False)) if args else dict.fromkeys(kpi.params)
        return RowScope(table, schema.TABLES, JOINS.get(table, {}), params, where or kpi.where)

    def compile(self, ref: Ref) -> dict[str, Typed]:
        """The checked row expressions of a measure or state, its parameters bound."""
        kpi = self.kpis[ref.name]
        scope = self.row_scope(kpi, ref.args, f"{kpi.where}: KPI {ref.key}")
        return compile_parts(kpi, scope)


def catalog_error(errors: list[str], files: list[str]) -> CatalogError:
    """One CatalogError for every error found, in the order of the files (as loaded),
    then of their lines; the message alone when there is one."""
    errors = sorted(dict.fromkeys(errors), key=lambda text: error_place(text, files))
    if len(errors) == 1:
        return CatalogError(errors[0])
    problems = []
    for text in errors:
        where, _, message = text.partition(": ")
        problems.append(Problem(where, message))
    return CatalogError(f"{len(errors)} errors in the KPI catalogs", problems)


def error_place(text: str, files: list[str]) -> tuple[int, int]:
    """(index of the file, line) of an error written `file:line: ...` or `file: ...`;
    an error of no file comes last."""
    for index, name in enumerate(files):
        if text.startswith(name + ":"):
            line = text[len(name) + 1 :].partition(":")[0]
            return index, int(line) if line.isdigit() else 0
    return len(files), 0


def compile_parts(kpi: KpiDef, scope: RowScope) -> dict[str, Typed]:
    parts = {}
    if kpi.get("filter"):
        parts["filter"] = compile_row(kpi.get("filter"), scope)
    if kpi.kind == "measure":
        parts["value"] = compile_row(kpi.get("value", "count()"), scope, aggregate=True)
        parts["time"] = compile_time(kpi.get("time"), scope)
        if kpi.get("mean_of"):
            parts["mean_of"] = compile_value_column(kpi.get("mean_of"), scope)
        if kpi.get("among"):
            parts["among"] = compile_row(kpi.get("among"), scope)
    return parts


def compile_time(source: str | None, scope: RowScope) -> Typed:
    if not source:
        raise CatalogError(f"{scope.where}: a measure needs a time column (time: ...)")
    from kpi.formula import RowCompiler

    typed = RowCompiler(scope).visit(parse(source, scope.where))
    if typed.type not in ("time", "any"):
        raise CatalogError(f"{scope.where}: time {source!r} is a {typed.type}, not a timestamp")
    return typed


def compile_value_column(source: str, scope: RowScope) -> Typed:
    from kpi.formula import RowCompiler

    typed = RowCompiler(scope).visit(parse(source, scope.where))
    if typed.type not in ("num", "any"):
        raise CatalogError(f"{scope.where}: mean_of {source!r} is a {typed.type}, not a number")
    return typed


# --- Reading YAML with line numbers -----------------------------------------------------


@dataclass
class Entry:
    """One KPI as read from catalog files: its fields and where each was written."""

    fields: dict[str, Any]
    file: str
    line: int
    lines: dict[str, str]  # field -> "file:line"


def read_entries(
    files: list[Path], translation: Path | None, errors: list[str], broken: set[str]
) -> dict[str, Entry]:
    """Each KPI's entry, its files merged in order; an entry that defines nothing is an
    error (appended to `errors`, its name to `broken`)."""
    raw: dict[str, Entry] = {}
    for path in files:
        for name, entry in read_catalog_file(path, errors).items():
            if name not in raw and undefined(entry):
                errors.append(undefined_error(name, entry, raw))
                broken.add(name)
                continue
            base = raw.get(name)
            merged = merge(base, entry)
            if path == translation and base is not None:
                # Words only: the KPI is still where catalog.yml defines it.
                merged = replace(merged, file=base.file, line=base.line)
            raw[name] = merged
    return raw


def read_catalog_file(path: Path, errors: list[str]) -> dict[str, Entry]:
    """The KPIs of one catalog file; its errors are appended to `errors`."""
    if not path.is_file():
        errors.append(f"{path}: no such catalog file (named in the catalogs setting)")
        return {}
    data = path.read_bytes()
    problem = utf8_problem(data)
    if problem:
        errors.append(f"{path}:{problem}")
        return {}
    text = data.decode("utf-8-sig")
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        errors.append(yaml_problem(path, error, text))
        return {}
    if root is None:
        return {}
    kpis_node = top_level_kpis(root, path, errors)
    found: dict[str, Entry] = {}
    for key_node, value_node in kpis_node.value if kpis_node else []:
        name = str(key_node.value)
        line = key_node.start_mark.line + 1
        problem = name_problem(name)
        if problem:
            hint = f"did you mean '{usable_name(name)}'?"
            errors.append(f"{path}:{line}: KPI {name!r}: {problem}; {hint}")
            continue
        if name in found:
            errors.append(
                f"{path}:{line}: KPI {name}: declared twice in this file (first on line "
                f"{found[name].line}; keep one)"
            )
            continue
        if not isinstance(value_node, yaml.MappingNode):
            errors.append(f"{path}:{line}: KPI {name}: expected a mapping of fields")
            continue
        fields_, lines = read_fields(value_node, path, name, errors)
        found[name] = Entry(fields_, str(path), line, lines)
    return found


def yaml_problem(path: Path, error: yaml.YAMLError, text: str) -> str:
    """`file:line: not valid YAML: problem (column n)`, not PyYAML's "<unicode string>".

    A problem found at the end of the file (a quote or a bracket never closed) is said
    where what was left open starts: the end of the file is past its last line."""
    mark = getattr(error, "problem_mark", None)
    if mark is None:
        return f"{path}: not valid YAML: {error}"
    problem = getattr(error, "problem", None) or "cannot read this line"
    context = getattr(error, "context", None)
    opened = getattr(error, "context_mark", None)
    end = len(text.rstrip())
    if mark.index >= end and opened is not None:
        mark = opened
    if mark.index >= end:
        last = text[:end].count("\n") + 1
        return f"{path}:{last}: not valid YAML: {problem} (the file ends after this line)"
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


def top_level_kpis(root: yaml.Node, path: Path, errors: list[str]) -> yaml.MappingNode | None:
    """The mapping under `kpis:`, or None once the error says what the file holds instead."""
    expected = "expected a top-level 'kpis:' mapping of KPI names"
    if not isinstance(root, yaml.MappingNode):
        errors.append(f"{path}:{root.start_mark.line + 1}: {expected}, found {yaml_kind(root)}")
        return None
    keys = [str(key_node.value) for key_node, _ in root.value]
    for key_node, value_node in root.value:
        if key_node.value == "kpis" and isinstance(value_node, yaml.MappingNode):
            return value_node
        if key_node.value == "kpis":
            line = value_node.start_mark.line + 1
            errors.append(
                f"{path}:{line}: 'kpis:' holds {yaml_kind(value_node)}; {expected} "
                "(each name followed by its fields, e.g. 'revenue:' then 'measure: ...')"
            )
            return None
    misspelt = closest("kpis", keys)
    hint = f"the file's top-level keys: {', '.join(map(repr, keys))}" if keys else None
    hint = f"found '{misspelt}': rename it 'kpis'" if misspelt else hint
    errors.append(with_hint(f"{path}:{root.start_mark.line + 1}: {expected}", hint))
    return None


def yaml_kind(node: yaml.Node) -> str:
    """What a YAML node is, in the words of an error message."""
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    return f"the value {node.value!r}" if node.value not in ("", None) else "nothing"


def read_fields(node: yaml.MappingNode, path: Path, name: str, errors: list[str]):
    """(fields, field -> "file:line") of one KPI; a field given twice is an error."""
    loader_value = yaml.SafeLoader("")
    fields_, lines = {}, {}
    for key_node, value_node in node.value:
        key, line = str(key_node.value), key_node.start_mark.line + 1
        if key in fields_:
            first = lines[key].rpartition(":")[2]
            errors.append(
                f"{path}:{line}: KPI {name}: field {key!r} given twice (first on line {first})"
            )
            continue
        fields_[key] = loader_value.construct_object(value_node, deep=True)
        lines[key] = f"{path}:{line}"
    loader_value.dispose()
    return fields_, lines


def kind_of(fields_: dict) -> str | None:
    """The kind a KPI's fields say: `kind`, else the kind its defining field belongs to."""
    if "kind" in fields_:
        return fields_["kind"]
    for key, kind in DEFINING.items():
        if key in fields_:
            return kind
    return None


def merge(base: Entry | None, entry: Entry) -> Entry:
    """A project entry overrides a standard one field by field, unless it is of another
    kind (written, or said by its defining field: `formula`, `activity`, `table`): it
    then replaces the entry wholly."""
    if base is None:
        return entry
    base_kind = kind_of(base.fields) or "measure"
    kind = kind_of(entry.fields)
    if kind is None and "table" in entry.fields and base_kind not in ("measure", "state"):
        kind = "measure"
    if kind is not None and kind != base_kind:
        return entry
    return Entry(
        {**base.fields, **entry.fields}, entry.file, entry.line, {**base.lines, **entry.lines}
    )


# --- Building one KPI ---------------------------------------------------------------------


def build_kpi(name: str, entry: Entry, errors: list[str]) -> KpiDef | None:
    """The KpiDef of an entry, each error found appended to `errors`; None when what it
    computes is unusable (a bad kind, field, table or expression), so that the formulas
    reading it are not checked against it."""
    fields_ = entry.fields
    kind = kind_of(fields_) or "measure"
    kpi = KpiDef(name=name, kind=kind, label=name, file=entry.file, line=entry.line)
    kpi.lines = entry.lines
    if kind not in KINDS:
        hint = did_you_mean(str(kind), KINDS)
        errors.append(with_hint(f"{kpi.at('kind')}: unknown kind {kind!r}", hint))
        return None
    fields_known = check_fields(kpi, fields_, errors)

    kpi.label = text_field(kpi, fields_, "label", errors) or name
    kpi.description = text_field(kpi, fields_, "description", errors) or ""
    kpi.format = text_field(kpi, fields_, "format", errors)
    kpi.empty = text_field(kpi, fields_, "empty", errors)
    kpi.unit = choice(fields_.get("unit", "number"), UNITS, kpi, "unit", errors)
    kpi.direction = choice(fields_.get("direction"), DIRECTIONS, kpi, "direction", errors)
    kpi.target = number_field(kpi, fields_, "target", errors)
    kpi.params = params_field(kpi, fields_, errors)
    kpi.spec = dict(fields_)
    if not fields_known:
        # A misspelt field would make the kind's own checks misleading ("unknown table").
        return None
    before = len(errors)
    BUILDERS[kind](kpi, errors)
    return kpi if len(errors) == before else None


def check_fields(kpi: KpiDef, fields_: dict, errors: list[str]) -> bool:
    """An error per field that a KPI of its kind does not have; True when there is none."""
    kind = kpi.kind
    allowed = FIELDS["common"] | FIELDS[kind]
    known = True
    for key in fields_:
        if key in allowed:
            continue
        owners = [k for k in KINDS if key in FIELDS[k]]
        if owners:
            message = f"{kpi.at(key)}: field {key!r} does not apply to a {kind} KPI"
            hint = f"it is a field of {' and '.join(owners)} KPIs"
            if kind_of(fields_) is None and len(owners) == 1:
                hint += f": add 'kind: {owners[0]}'"
        else:
            message = f"{kpi.at(key)}: unknown field {key!r}"
            hint = field_hint(str(key), allowed)
        errors.append(with_hint(message, hint))
        known = False
    return known


def undefined(entry: Entry) -> bool:
    """An entry that says what it computes by none of its fields (only a label...); a
    misspelt field ("formla") is reported as such by build_kpi instead."""
    fields_ = entry.fields
    known = all(key in ALL_FIELDS for key in fields_)
    return known and kind_of(fields_) is None and "table" not in fields_


def undefined_error(name: str, entry: Entry, known: dict[str, Entry]) -> str:
    """A new KPI without a defining field is most likely a misspelt override."""
    message = (
        f"{entry.file}:{entry.line}: KPI {name}: {name} is not a KPI of the catalog, so it "
        "needs a kind (formula, table or activity)"
    )
    match = closest(name, known)
    return f"{message}; did you mean to override '{match}'?" if match else message


def field_hint(key: str, allowed: set[str]) -> str:
    """The closest field name: fewest edits (a swap of two letters is one), then a field
    of the KPI's kind ("lable" in a formula is "label", not "table"), then the same first
    letter. Edits come first: without `kind`, the kind is only a guess ("formla" makes a
    measure, yet means "formula")."""

    def rank(name: str) -> tuple:
        return (edits(key, name), name not in allowed, name[0] != key[0], name)

    best = min(ALL_FIELDS, key=rank)
    if edits(key, best) <= max(1, len(key) // 3):
        return f"did you mean '{best}'?"
    return "expected one of: " + ", ".join(sorted(allowed))


def edits(a: str, b: str) -> int:
    """Edit distance: insertions, deletions, substitutions and swaps of neighbours."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def choice(value, allowed, kpi: KpiDef, key: str, errors: list[str]):
    if value in allowed:
        return value
    shown = [a for a in allowed if a is not None]
    match = closest(str(value), shown)
    hint = f"did you mean '{match}'?" if match else None
    errors.append(
        with_hint(f"{kpi.at(key)}: {key}: {value!r} is not one of {', '.join(shown)}", hint)
    )
    return None


def text_field(kpi: KpiDef, fields_: dict, key: str, errors: list[str]) -> str | None:
    value = fields_.get(key)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and key != "format":
        return str(value)
    errors.append(f"{kpi.at(key)}: {key}: expected a text, got {value!r}")
    return None


def number_field(kpi: KpiDef, fields_: dict, key: str, errors: list[str]) -> float | None:
    value = fields_.get(key)
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return value
    errors.append(f"{kpi.at(key)}: {key}: expected a number, got {value!r}")
    return None


def params_field(kpi: KpiDef, fields_: dict, errors: list[str]) -> tuple[str, ...]:
    params = fields_.get("params") or ()
    params = (params,) if isinstance(params, str) else params
    if not isinstance(params, list | tuple) or not all(
        isinstance(p, str) and p.isidentifier() for p in params
    ):
        errors.append(f"{kpi.at('params')}: params: expected a list of names, got {params!r}")
        return ()
    return tuple(params)


def build_measure(kpi: KpiDef, errors: list[str]) -> None:
    table = kpi.get("table")
    if not check_table(kpi, table, errors):
        return
    scope = RowScope(
        table, schema.TABLES, JOINS.get(table, {}), dict.fromkeys(kpi.params), kpi.where
    )
    for part in ("filter", "value", "time", "mean_of", "among"):
        scope.where = f"{kpi.at(part)}: {part}"
        try:
            compile_part(kpi, part, scope)
        except CatalogError as error:
            errors.append(str(error))
    kpi.tables = {table} | scope.used_joins
    kpi.dimensions = set(DIMENSIONS.get(table, {}))


def compile_part(kpi: KpiDef, part: str, scope: RowScope) -> None:
    if part == "filter" and kpi.get("filter"):
        compile_row(kpi.get("filter"), scope)
    elif part == "value":
        compile_row(kpi.get("value", "count()"), scope, aggregate=True)
    elif part == "time":
        compile_time(kpi.get("time"), scope)
    elif part == "mean_of" and kpi.get("mean_of"):
        compile_value_column(kpi.get("mean_of"), scope)
    elif part == "among" and kpi.get("among"):
        compile_among(kpi, scope)


def compile_among(kpi: KpiDef, scope: RowScope) -> None:
    """`among`: a condition some row of the counted key must also meet (delivered)."""
    value = kpi.get("value", "count()")
    if compile_row(value, scope, aggregate=True).name != "count_distinct":
        raise CatalogError(
            f"{scope.where}: applies to distinct counts, not to {value!r} "
            "(expected value: count_distinct(...))"
        )
    compile_row(kpi.get("among"), scope)


def build_state(kpi: KpiDef, errors: list[str]) -> None:
    table = kpi.spec.setdefault("table", "contacts")
    if not check_table(kpi, table, errors):
        return
    kpi.spec.setdefault("valid_from", "created_at")
    kpi.spec.setdefault("valid_to", "deleted_at")
    kpi.spec.setdefault("at", "end")
    choice(kpi.get("at"), ("start", "end"), kpi, "at", errors)
    scope = RowScope(table, schema.TABLES, {}, dict.fromkeys(kpi.params), kpi.where)
    for key in ("valid_from", "valid_to"):
        column = kpi.get(key)
        if str(column) not in schema.TABLES[table].column_names() or (
            scope.column_type(None, column) != "time"
        ):
            errors.append(f"{kpi.at(key)}: {key}: {column!r} is not a timestamp of {table}")
    if kpi.get("filter"):
        scope.where = f"{kpi.at('filter')}: filter"
        try:
            compile_row(kpi.get("filter"), scope)
        except CatalogError as error:
            errors.append(str(error))
    kpi.tables = {table}
    kpi.dimensions = set(DIMENSIONS.get(table, {}))


def build_activity(kpi: KpiDef, errors: list[str]) -> None:
    choice(kpi.get("activity"), ACTIVITY, kpi, "activity", errors)
    kpi.spec.setdefault("at", "end")
    choice(kpi.get("at"), ("start", "end"), kpi, "at", errors)
    window = kpi.get("window")
    if window is not None and (
        isinstance(window, bool) or not isinstance(window, int) or window < 1
    ):
        errors.append(
            f"{kpi.at('window')}: window: expected a number of days, 1 or more, got {window!r}"
        )
    flag = kpi.get("include_interactions")
    if flag is not None and not isinstance(flag, bool):
        errors.append(
            f"{kpi.at('include_interactions')}: include_interactions: expected true or false, "
            f"got {flag!r}"
        )
    kpi.tables = {"orders"}
    kpi.dimensions = set(CONTACT_DIMENSIONS)


def build_formula(kpi: KpiDef, errors: list[str]) -> None:
    where = kpi.at("formula")
    if not kpi.get("formula"):
        errors.append(f"{where}: a formula KPI needs a formula")
        return
    try:
        kpi.deps = [ref for ref, _ in formula_refs(str(kpi.get("formula")), kpi.params, where)]
    except CatalogError as error:
        errors.append(str(error))


def check_table(kpi: KpiDef, table: str | None, errors: list[str]) -> bool:
    if table in schema.TABLES:
        return True
    hint = did_you_mean(str(table), schema.TABLES)
    errors.append(with_hint(f"{kpi.at('table')}: unknown table {table!r}", hint))
    return False


BUILDERS = {
    "measure": build_measure,
    "state": build_state,
    "activity": build_activity,
    "formula": build_formula,
}
