"""The ``migrate-core`` console script: the cached everyday answer first, then the CLI.

``migrate-core makemigrations --check`` with nothing changed is the command run most
often (editors, pre-push, CI), and it must not pay for click, SQLAlchemy and the
models when :mod:`migrate_core.answers` can prove the last answer still holds. So
this module imports only the standard library and L0 modules before it knows
whether the full CLI (:mod:`migrate_core.cli`) is needed.
"""

from __future__ import annotations

import sys


def main() -> None:
    from migrate_core import answers

    question = answers.parse_argv(sys.argv[1:])
    if question is not None:
        try:
            text = answers.answer(question)
        except Exception:
            text = None  # whatever the cache cannot prove, the full run answers
        if text is not None:
            sys.stdout.write(text + "\n")
            return
    from migrate_core.cli import main as cli_main

    cli_main()


if __name__ == "__main__":  # pragma: no cover
    main()
