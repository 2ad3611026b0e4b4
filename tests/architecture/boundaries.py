"""An import-linter contract for the house rules between and inside business contexts.

``lint-imports`` loads it (``[tool.importlinter] contract_types``); ``rule_breaks`` holds the rules as a pure
function so that a unit test can show that each of them catches what it should.

A module's *context* is the package directly under the root (``oms_api.orders``); its *role* comes from its
name: ``router`` (or ``*_router``), ``repository`` (or ``*_repository``), ``models``, ``schemas``, ``events``,
``domain`` (a ``domain`` package included), and ``service`` for every other module (the facade and the use-case
modules it re-exports, handlers, tasks). Within a context a role may import only the roles below it::

    router  -> service, schemas, events, domain
    service -> service, events, repository, models, schemas, domain
    events  -> events, schemas, domain
    repository -> repository, models, domain
    models  -> models, domain
    schemas -> schemas, domain
    domain  -> domain (and, outside contexts, only ``kit.money``)

Between contexts the same rule holds, and the imported module must be the other context's ``service`` (the facade:
never one of its use-case modules) or one of its schemas, domain or events modules; a repository may also read
another context's models, which is how a named read model joins another context's table. A context's domain imports
no other context at all, and only routers (and ``openapi``, which documents the HTTP surface) import the web
framework.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output

MAY_IMPORT: dict[str, frozenset[str]] = {
    "router": frozenset({"router", "service", "schemas", "events", "domain"}),
    "service": frozenset({"service", "events", "repository", "models", "schemas", "domain"}),
    "events": frozenset({"events", "schemas", "domain"}),
    "repository": frozenset({"repository", "models", "domain"}),
    "models": frozenset({"models", "domain"}),
    "schemas": frozenset({"schemas", "domain"}),
    "domain": frozenset({"domain"}),
}
PUBLIC = frozenset({"schemas", "domain", "events"})
"""Roles another context may import, besides the context's ``service`` module itself (its facade)."""
DOMAIN_MAY_USE = frozenset({"oms_api.kit.money"})
WEB = frozenset({"fastapi", "starlette"})


def role(module: str) -> str:
    """The role of a module of a context, from its dotted name."""
    parts = module.split(".")[2:]
    if "domain" in parts:
        return "domain"
    name = parts[-1] if parts else "service"
    if name in ("router", "openapi") or name.endswith("_router"):
        return "router"
    if name == "repository" or name.endswith("_repository"):
        return "repository"
    if name in ("models", "schemas", "events"):
        return name
    return "service"


@dataclass(frozen=True)
class Break:
    importer: str
    imported: str
    why: str


def rule_breaks(imports: Iterable[tuple[str, str]], root: str, contexts: Iterable[str]) -> Iterator[Break]:
    """Every import ``(importer, imported)`` that breaks the rules of the module docstring."""
    known = set(contexts)

    def context(module: str) -> str | None:
        parts = module.split(".")
        if len(parts) < 2 or parts[0] != root:
            return None
        return parts[1] if parts[1] in known else None

    for importer, imported in imports:
        mine = context(importer)
        if mine is None:
            continue
        theirs = context(imported)
        mine_role = role(importer)
        if imported.split(".")[0] in WEB:
            if mine_role != "router":
                yield Break(importer, imported, "only routers use the web framework")
            continue
        if mine_role == "domain" and imported.startswith(f"{root}.") and imported not in DOMAIN_MAY_USE:
            if theirs != mine or role(imported) != "domain":
                yield Break(importer, imported, "a domain module imports only its own domain and kit.money")
            continue
        if theirs is None or imported == f"{root}.{theirs}":
            continue
        their_role = role(imported)
        if theirs != mine:
            read_model = mine_role == "repository" and their_role == "models"
            facade = imported == f"{root}.{theirs}.service"
            if not read_model and not facade and their_role not in PUBLIC:
                name = imported.rsplit(".", 1)[-1] if their_role == "service" else their_role
                yield Break(importer, imported, f"another context's {name} is not public")
                continue
            if not read_model and their_role not in MAY_IMPORT[mine_role]:
                yield Break(importer, imported, f"a {mine_role} may not import a {their_role}")
        elif their_role not in MAY_IMPORT[mine_role]:
            yield Break(importer, imported, f"a {mine_role} may not import a {their_role}")


class ContextBoundariesContract(Contract):
    """``type = "context_boundaries"``: ``contexts`` lists the context packages (names under the root)."""

    type_name = "context_boundaries"

    contexts = fields.ListField(subfield=fields.StringField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        root = self.session_options["root_packages"][0] if "root_packages" in self.session_options else "oms_api"
        root = self.session_options.get("root_package", root)
        imports = [
            (importer, imported)
            for importer in sorted(graph.modules)
            for imported in sorted(graph.find_modules_directly_imported_by(importer))
        ]
        found = list(rule_breaks(imports, root, self.contexts))  # type: ignore[arg-type]
        details = []
        for b in found:
            lines = sorted(
                {d["line_number"] for d in graph.get_import_details(importer=b.importer, imported=b.imported)}
            )
            details.append({"importer": b.importer, "imported": b.imported, "why": b.why, "lines": lines})
        return ContractCheck(kept=not found, metadata={"breaks": details})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for item in check.metadata["breaks"]:
            where = ", ".join(f"l.{n}" for n in item["lines"])
            output.print_error(f"{item['importer']} -> {item['imported']} ({where}): {item['why']}")
            output.new_line()
