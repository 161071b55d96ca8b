"""The dependency graph of migrations: leaves, conflicts, cycles and plans.

Nodes are ``(app, name)`` keys. Every walk here is iterative: a chain of a few
thousand migrations is ordinary and must not hit Python's recursion limit.
Orders are deterministic (sorted by key wherever there is a choice), so the
same files always give the same plan.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field

from migrate_core.errors import CircularDependencyError
from migrate_core.errors import NodeNotFoundError

Key = tuple[str, str]


@dataclass
class Node:
    key: Key
    parents: set[Key] = field(default_factory=set)
    children: set[Key] = field(default_factory=set)

    @property
    def app(self) -> str:
        return self.key[0]


def conflict_message(conflicts: dict[str, list[Key]], *, app: str | None = None) -> str:
    """What to tell someone whose apps have several leaves (migrations from two branches).

    ``app``: the one app the command was asked about, named in the command to run.
    """
    if app is not None:
        names = ", ".join(n for _, n in conflicts[app])
        return (
            f"app {app} has more than one leaf migration ({names}): migrations were written on "
            f"two branches; run: migrate-core makemigrations --merge {app}"
        )
    detail = "; ".join(
        f"{a}: {', '.join(n for _, n in leaves)}" for a, leaves in sorted(conflicts.items())
    )
    return (
        f"Conflicting migrations: more than one leaf migration in {detail} (migrations written "
        "on two branches).\nTo fix, run: migrate-core makemigrations --merge"
    )


class MigrationGraph:
    def __init__(self) -> None:
        self.nodes: dict[Key, Node] = {}

    def __contains__(self, key: object) -> bool:
        return key in self.nodes

    def __len__(self) -> int:
        return len(self.nodes)

    def add_node(self, key: Key) -> None:
        self.nodes.setdefault(key, Node(key))

    def add_dependency(self, child: Key, parent: Key, *, origin: str = "") -> None:
        """``child`` depends on ``parent``; ``origin`` (a file) is named when ``parent`` is missing."""
        if child not in self.nodes:
            raise NodeNotFoundError(
                f"{origin or child}: migration {child} is not in the graph", child
            )
        if parent not in self.nodes:
            where = origin or f"{child[0]}.{child[1]}"
            raise NodeNotFoundError(
                f"{where} depends on {parent!r}, which does not exist "
                f"(no migration {parent[1]} in app {parent[0]})",
                parent,
            )
        self.nodes[child].parents.add(parent)
        self.nodes[parent].children.add(child)

    def remove_node(self, key: Key) -> None:
        node = self.nodes.pop(key)
        for parent in node.parents:
            self.nodes[parent].children.discard(key)
        for child in node.children:
            self.nodes[child].parents.discard(key)

    def remap(self, replaced: Iterable[Key], replacement: Key) -> None:
        """A squashed migration stands in for ``replaced``: move their edges onto it."""
        replaced = set(replaced)
        for key in replaced:
            node = self.nodes.get(key)
            if node is None:
                continue
            for child in node.children:
                if child not in replaced and child != replacement:
                    self.nodes[child].parents.discard(key)
                    self.nodes[child].parents.add(replacement)
                    self.nodes[replacement].children.add(child)
            for parent in node.parents:
                if parent not in replaced and parent != replacement:
                    self.nodes[parent].children.discard(key)
                    self.nodes[parent].children.add(replacement)
                    self.nodes[replacement].parents.add(parent)
        for key in replaced:
            if key in self.nodes:
                node = self.nodes.pop(key)
                for other in node.parents | node.children:
                    if other in self.nodes:
                        self.nodes[other].parents.discard(key)
                        self.nodes[other].children.discard(key)

    # -- queries -----------------------------------------------------------------------------------

    def apps(self) -> list[str]:
        return sorted({k[0] for k in self.nodes})

    def leaf_nodes(self, app: str | None = None) -> list[Key]:
        """Migrations of ``app`` that no migration of the same app depends on."""
        out = []
        for key, node in self.nodes.items():
            if app is not None and key[0] != app:
                continue
            if not any(child[0] == key[0] for child in node.children):
                out.append(key)
        return sorted(out)

    def root_nodes(self, app: str | None = None) -> list[Key]:
        out = []
        for key, node in self.nodes.items():
            if app is not None and key[0] != app:
                continue
            if not any(parent[0] == key[0] for parent in node.parents):
                out.append(key)
        return sorted(out)

    def conflicts(self) -> dict[str, list[Key]]:
        """Apps with more than one leaf: migrations written on two branches."""
        out = {}
        for app in self.apps():
            leaves = self.leaf_nodes(app)
            if len(leaves) > 1:
                out[app] = leaves
        return out

    def find_cycle(self) -> list[Key] | None:
        """A dependency loop as a list of keys (first == last), or None."""
        white, grey, black = 0, 1, 2
        color = dict.fromkeys(self.nodes, white)
        for start in sorted(self.nodes):
            if color[start] != white:
                continue
            stack: list[tuple[Key, list[Key]]] = [(start, sorted(self.nodes[start].parents))]
            path = [start]
            color[start] = grey
            while stack:
                key, pending = stack[-1]
                if pending:
                    parent = pending.pop()
                    if color[parent] == grey:
                        return [*path[path.index(parent) :], parent]
                    if color[parent] == white:
                        color[parent] = grey
                        path.append(parent)
                        stack.append((parent, sorted(self.nodes[parent].parents)))
                else:
                    color[key] = black
                    path.pop()
                    stack.pop()
        return None

    def validate(self) -> None:
        cycle = self.find_cycle()
        if cycle is not None:
            chain = " -> ".join(f"{a}.{n}" for a, n in cycle)
            raise CircularDependencyError(f"migrations depend on each other in a loop: {chain}")

    def _walk(self, targets: Iterable[Key], *, up: bool) -> list[Key]:
        """Post-order DFS: for ``up`` every node after its parents, else after its children."""
        order: list[Key] = []
        seen: set[Key] = set()
        for target in targets:
            if target not in self.nodes:
                raise NodeNotFoundError(f"migration {target[0]}.{target[1]} does not exist", target)
            if target in seen:
                continue
            seen.add(target)
            edges = self.nodes[target].parents if up else self.nodes[target].children
            stack: list[tuple[Key, list[Key]]] = [(target, sorted(edges, reverse=True))]
            while stack:
                key, pending = stack[-1]
                if pending:
                    nxt = pending.pop()
                    if nxt not in seen:
                        seen.add(nxt)
                        edges = self.nodes[nxt].parents if up else self.nodes[nxt].children
                        stack.append((nxt, sorted(edges, reverse=True)))
                else:
                    order.append(key)
                    stack.pop()
        return order

    def forwards_plan(self, target: Key) -> list[Key]:
        """Everything ``target`` needs, itself last, each node after its dependencies."""
        return self._walk([target], up=True)

    def backwards_plan(self, target: Key) -> list[Key]:
        """Everything that needs ``target``, itself last, each node after its dependents."""
        return self._walk([target], up=False)

    def full_plan(self, apps: Iterable[str] | None = None) -> list[Key]:
        """All migrations (of ``apps``) in an order that respects every dependency."""
        wanted = set(apps) if apps is not None else None
        leaves = [k for k in self.leaf_nodes() if wanted is None or k[0] in wanted]
        return self._walk(leaves, up=True)

    def ancestors(self, key: Key) -> set[Key]:
        return set(self.forwards_plan(key)) - {key}

    def descendants(self, key: Key) -> set[Key]:
        return set(self.backwards_plan(key)) - {key}

    def common_ancestors(self, keys: Iterable[Key]) -> list[Key]:
        """The latest migrations every one of ``keys`` depends on (where branches forked)."""
        sets = [self.ancestors(k) for k in keys]
        if not sets:
            return []
        common = set.intersection(*sets)
        return sorted(k for k in common if not (self.descendants(k) & common))

    def app_nodes(self, app: str) -> list[Key]:
        return sorted(k for k in self.nodes if k[0] == app)
