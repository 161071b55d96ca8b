"""migrate-core: Django-style migrations for SQLAlchemy models, built to live inside git.

Importing this package is cheap on purpose (no SQLAlchemy): the commit hook
imports it on every commit, and most commits touch no model.
"""

from __future__ import annotations

__version__ = "0.1.0"
