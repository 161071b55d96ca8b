"""Can the configured database create what the models declare? Asked before any file is written.

The rules that hold in every database live with the state (:mod:`migrate_core.schema.validate`);
each dialect module adds its own (:meth:`Backend.table_problems`, the namespace of index
names). This module puts the two together for the database the project's URL names, so
``makemigrations`` (and ``check-migrations``) ask one question: which problems, if any.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from migrate_core.errors import ConfigError
from migrate_core.errors import ModelProblemsError
from migrate_core.schema import validate

if TYPE_CHECKING:
    from migrate_core.config import Config
    from migrate_core.db.dialects.base import Backend
    from migrate_core.schema.state import ProjectState


def configured_backend(config: Config) -> Backend | None:
    """The dialect module of the project's database URL (never connected to), or None
    when there is no URL or migrate-core has no module for its dialect: then only the
    rules that hold everywhere run."""
    from migrate_core.db import dialects

    try:
        url = config.resolve_database_url()
        return dialects.get(url)
    except ConfigError:
        return None


def valid_model_state(config: Config, *, root: Path | None = None) -> ProjectState:
    """The models' state, or :class:`ModelProblemsError` (exit 2) listing every problem.

    Types that no migration file can write stop the state from being built at all;
    they are collected column by column here, so the user sees all of them at once.
    """
    from migrate_core.schema import codegen
    from migrate_core.schema import project

    try:
        state = project.model_state(config, root=root)
    except codegen.UnwritableTypeError:
        problems = validate.unwritable_types(config, root)
        if not problems:
            raise
        raise ModelProblemsError(validate.summary(problems), problems) from None
    rules = configured_backend(config)
    problems = validate.validate(state, config, rules=rules)
    problems += validate.declared_problems(config, root=root, rules=rules)
    if problems:
        # Where each model is declared, found only now: reading the classes' source costs
        # more than the whole check on a large project, and only a problem needs it.
        locations = validate.locate(config, root=root)
        problems = validate.validate(state, config, locations=locations, rules=rules)
        problems += validate.declared_problems(config, root=root, locations=locations, rules=rules)
        raise ModelProblemsError(validate.summary(problems), problems)
    return state


def model_problems(config: Config, *, root: Path | None = None) -> list[validate.Problem]:
    """Every problem of the models as data, never raising for them (for check-migrations).

    Each Problem carries ``code``, ``path`` and ``line`` for a finding on the model.
    """
    try:
        valid_model_state(config, root=root)
    except ModelProblemsError as error:
        return [p for p in error.problems if isinstance(p, validate.Problem)]
    return []
