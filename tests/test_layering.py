"""The layering of server/: `core/` imports no domain folder, and the domain
folders import each other in one direction only (the order is in the README's
"Layout" section). Imports under `if TYPE_CHECKING:` do not count (they do
not run); function-local imports do (a local import that dodges a cycle is
still a cycle). Strawberry's `lazy` type references are strings, not imports.

When this fails: move the code to the folder where its dependencies point
downward (see how `members/` sits above `accounts/`, or how webhooks follow
the audit trail through `audit.service.follow`), or inject the dependency
(`core.errors.observe_user_errors`).
"""

from __future__ import annotations

import ast
from pathlib import Path

SERVER = Path(__file__).resolve().parent.parent / "server"

# Lowest first: a folder may import only folders listed before it.
ORDER = (
    "core",
    "mail",
    "ops",
    "tenancy",
    "accounts",
    "audit",
    "branding",
    "dead_mail",
    "webhooks",
    "dead_mail",
    "api_tokens",
    "auth",
    "invitations",
    "members",
    "scim",
    "oidc",
    "organisations",
    "impersonation",
    "contacts",
    "tickets",
    "telephony",
)


def _folders() -> list[str]:
    return sorted(
        p.name
        for p in SERVER.iterdir()
        if p.is_dir() and p.name not in ("migrations", "__pycache__") and any(p.glob("*.py"))
    )


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    skipped = {
        id(node)
        for branch in ast.walk(tree)
        if isinstance(branch, ast.If) and "TYPE_CHECKING" in ast.unparse(branch.test)
        for node in ast.walk(branch)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _edges() -> dict[str, dict[str, set[str]]]:
    """folder → imported folder → the files that import it."""
    folders = set(_folders())
    edges: dict[str, dict[str, set[str]]] = {f: {} for f in folders}
    for folder in folders:
        for path in (SERVER / folder).rglob("*.py"):
            for module in _imports(path):
                parts = module.split(".")
                target = parts[1] if parts[0] == "server" and len(parts) > 1 else None
                if target in folders and target != folder:
                    edges[folder].setdefault(target, set()).add(
                        str(path.relative_to(SERVER.parent))
                    )
    return edges


def test_every_folder_has_a_place_in_the_order() -> None:
    assert set(_folders()) == set(ORDER), (
        "a folder of server/ is missing from (or gone but still in) ORDER: place it so that "
        "it imports only folders before it, and update the README's Layout section"
    )


def test_core_imports_no_domain_folder() -> None:
    upward = _edges()["core"]
    assert not upward, f"core/ imports domain folders: {upward}"


def test_folders_import_downward_only() -> None:
    rank = {folder: i for i, folder in enumerate(ORDER)}
    upward = [
        f"{folder} → {target} ({', '.join(sorted(files))})"
        for folder, targets in _edges().items()
        for target, files in targets.items()
        if rank[target] > rank[folder]
    ]
    assert not upward, "imports against the layer order:\n" + "\n".join(upward)
