"""Check 1: the migration graph has one leaf per app, no holes, no loops, no twin numbers.

Missing dependencies, cycles and files that do not import stop the loader;
check-migrations reports those as findings of this check too (see
``commands/check.py``). What is found here: forks (two leaves: migrations
written on two branches), two files sharing a number, and an operation that
does not fit the state the migrations before it build.
"""

from __future__ import annotations

from migrate_core.checks import ERROR
from migrate_core.checks import WARNING
from migrate_core.checks import CheckContext
from migrate_core.checks import CheckResult
from migrate_core.checks import Finding
from migrate_core.errors import InvalidStateError
from migrate_core.migrations import writer


def run(context: CheckContext) -> CheckResult:
    result = CheckResult("graph")
    graph = context.loader.graph
    for app, leaves in sorted(graph.conflicts().items()):
        if app not in context.apps:
            continue
        common = graph.common_ancestors(leaves)
        shared = set(common).union(*(graph.ancestors(c) for c in common))
        branches = []
        for leaf in leaves:
            own = [n for a, n in graph.forwards_plan(leaf) if a == app and (a, n) not in shared]
            branches.append(", ".join(own))
        ancestor = ", ".join(n for _, n in common) if common else "none (separate roots)"
        text = " | ".join(f"branch {i + 1}: {b}" for i, b in enumerate(branches))
        finding = context.migration_finding(
            "graph",
            ERROR,
            leaves[-1],
            f"{app} has {len(leaves)} leaf migrations ({', '.join(n for _, n in leaves)}), forked after "
            f"{ancestor}; {text}. Run: migrate-core makemigrations --merge {app}",
        )
        result.findings.append(finding)
    for app in context.apps:
        by_number: dict[int, list[str]] = {}
        for _app, name in graph.app_nodes(app):
            number = writer.migration_number(name)
            if number is not None:
                by_number.setdefault(number, []).append(name)
        for number, names in sorted(by_number.items()):
            if len(names) > 1 and not _is_merged(context, app, names):
                result.findings.append(
                    context.migration_finding(
                        "graph",
                        WARNING,
                        (app, names[-1]),
                        f"{app} has {len(names)} migrations numbered {number:04d}: {', '.join(names)}",
                    )
                )
    apps = list(context.apps)
    total = sum(len(graph.app_nodes(a)) for a in apps)
    leaves_ok = all(len(graph.leaf_nodes(a)) <= 1 for a in apps)
    result.summary = (
        f"{len(apps)} app{'s' if len(apps) != 1 else ''}, {total} migration{'s' if total != 1 else ''}"
        + (", one leaf each" if leaves_ok else "")
    )
    return result


def _is_merged(context: CheckContext, app: str, names: list[str]) -> bool:
    """Twin numbers after a merge migration are history, not a problem: warn only while forked.

    Merged means parallel: two branches' migrations joined by a merge migration. Twins
    of which one builds on the other (a branch rebased by hand, its migration pointed at
    the new leaf but not renumbered) are a chain that reads out of order: warn.
    """
    graph = context.loader.graph
    leaves = graph.leaf_nodes(app)
    if len(leaves) != 1:
        return False
    ancestors = graph.ancestors(leaves[0]) | {leaves[0]}
    keys = [(app, n) for n in names]
    if not all(k in ancestors for k in keys):
        return False
    return not any(a in graph.ancestors(b) for a in keys for b in keys if a != b)


def state_findings(context: CheckContext) -> list[Finding]:
    """The operation that does not fit the state the migrations before it build, if any.

    A hand-edited chain (a column removed twice, a table renamed that is not there)
    breaks every check that needs the migrations' state; the error names the
    migration and the operation, so the finding lands on its line.
    """
    try:
        context.loader.project_state()
    except InvalidStateError as exc:
        if exc.key is None:
            return [Finding("graph", ERROR, str(exc))]
        return [
            context.migration_finding(
                "graph",
                ERROR,
                exc.key,
                f"{exc.key[1]} does not fit the migrations before it: {exc.reason}",
                op_index=exc.op_index,
            )
        ]
    return []
