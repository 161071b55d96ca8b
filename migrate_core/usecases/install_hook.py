"""install-hook: make migrate-core this repository's plain git pre-commit hook.

For projects that do not use the pre-commit tool. The hook is a two-line shell
script that runs ``python -m migrate_core.hook`` with the interpreter that installed
it, so it finds the project's environment without PATH games.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from migrate_core.errors import ConfigError

#: Marks a hook as ours, so that reinstalling may overwrite it without --force.
HOOK_MARKER = "# Installed by migrate-core install-hook"


def hook_script(python: str, *, stage: bool) -> str:
    """A plain git pre-commit hook that runs migrate-core with this very interpreter."""
    extra = " --stage" if stage else ""
    return (
        "#!/bin/sh\n"
        f"{HOOK_MARKER}: writes the migrations for staged model changes.\n"
        "# Remove this file to uninstall; `migrate-core install-hook --force` rewrites it.\n"
        f"exec {shlex.quote(python)} -m migrate_core.hook makemigrations{extra}\n"
    )


def install_hook(where: Path, python: str, *, stage: bool = False, force: bool = False) -> Path:
    """Write the hook into the hooks folder of the repository around ``where``.

    ``python`` is the interpreter the hook runs. Returns the path written. Raises
    ConfigError outside a git repository, or when a hook that is not ours is there
    and ``force`` is not given.
    """
    from migrate_core.vcs import index
    from migrate_core.vcs import runner

    repo = runner.repo_root(where)
    if repo is None:
        raise ConfigError(f"{where} is not inside a git repository")
    target = index.hooks_path(repo) / "pre-commit"
    if target.exists() and not force and HOOK_MARKER not in target.read_text(errors="replace"):
        raise ConfigError(
            f"{target} exists and is not ours; pass --force to replace it "
            "(or call `python -m migrate_core.hook makemigrations` from it)"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(hook_script(python, stage=stage), encoding="utf-8")
    target.chmod(0o755)
    return target
