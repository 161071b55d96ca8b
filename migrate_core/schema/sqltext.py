"""SQL text, read without a parser: statements split on top-level semicolons, and tokens
that let two spellings of the same expression compare equal.

Hand-written because no library does both jobs for every dialect we support without
parsing (sqlparse would split, but normalizes nothing and is slow on long scripts). Both
scanners respect what is inside quotes: a changed string literal must stay a change, and a
semicolon inside a literal or a dollar-quoted body never ends a statement.
"""

from __future__ import annotations

from collections.abc import Collection
from collections.abc import Sequence

QUOTES = "'\"`"


def quoted_end(text: str, start: int, *, backslash: bool = False) -> int:
    """The index just past the quoted literal or identifier that opens at ``start``.

    A doubled quote stays inside (``'it''s'``); with ``backslash`` a backslash escapes the
    next character too (MySQL's and SQLite's string literals in scripts). An unclosed
    quote runs to the end of the text.
    """
    quote, j, n = text[start], start + 1, len(text)
    while j < n:
        if text[j] == quote:
            if j + 1 < n and text[j + 1] == quote:
                j += 2
                continue
            return j + 1
        if backslash and text[j] == "\\":
            j += 1
        j += 1
    return n


def requote_identifiers(text: str, quote: str, names: Collection[str]) -> str | None:
    """``text`` with its standard ``"double-quoted"`` identifiers quoted by ``quote``
    instead, or None when it has none (string literals and other quotes are kept).

    Only ``names`` (the columns and tables the schema has) are identifiers: on MySQL a
    user's own ``"active"`` in a default or check is a string, and stays one.

    The states hold expressions (an index on ``lower("FirstName")``) as SQL text compiled
    once for every database, with the standard quotes; MySQL and MariaDB read a double
    quote as a string literal, so their DDL needs the identifiers in backticks.
    """
    out: list[str] = []
    i, n, changed = 0, len(text), False
    while i < n:
        ch = text[i]
        if ch in "'`":
            j = quoted_end(text, i, backslash=ch == "'")
            out.append(text[i:j])
            i = j
        elif ch == '"':
            j = quoted_end(text, i)
            name = text[i + 1 : j - 1].replace('""', '"')
            if name in names:
                out.append(quote + name.replace(quote, quote * 2) + quote)
                changed = True
            else:
                out.append(text[i:j])
            i = j
        else:
            out.append(ch)
            i += 1
    return "".join(out) if changed else None


def split_statements(sql: str) -> list[str]:
    """Split a script into statements on top-level semicolons.

    Quotes ('', "", ``), comments (--, /* */) and PostgreSQL dollar quotes are
    respected. SQLite and PyMySQL run one statement per call, so we split
    ourselves. Pass a list of statements to RunSQL to skip the splitting (for
    trigger bodies with inner semicolons, say).
    """
    statements: list[str] = []
    buf: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in QUOTES:
            j = quoted_end(sql, i, backslash=ch != '"')
            buf.append(sql[i:j])
            i = j
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j == -1 else j
            buf.append(sql[i:j])
            i = j
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            j = n if j == -1 else j + 2
            buf.append(sql[i:j])
            i = j
        elif ch == "$":
            end = sql.find("$", i + 1)
            tag = sql[i : end + 1] if end != -1 else ""
            if tag and (tag == "$$" or tag[1:-1].replace("_", "a").isalnum()):
                close = sql.find(tag, end + 1)
                close = n if close == -1 else close + len(tag)
                buf.append(sql[i:close])
                i = close
            else:
                buf.append(ch)
                i += 1
        elif ch == ";":
            statements.append("".join(buf))
            buf = []
            i += 1
        else:
            buf.append(ch)
            i += 1
    statements.append("".join(buf))
    return [s.strip() for s in statements if has_code(s)]


def has_code(statement: str) -> bool:
    lines = [line for line in statement.strip().splitlines() if not line.strip().startswith("--")]
    return bool("".join(lines).strip())


def tokens(text: str) -> list[str]:
    """Split SQL into quoted literals/identifiers, whitespace runs and single characters.

    Everything that normalizes SQL text works on these tokens so that it never
    touches what is inside quotes: a changed string literal must stay a change.
    """
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch in QUOTES:
            j = quoted_end(text, i)
            out.append(text[i:j])
            i = j
        elif ch.isspace():
            j = i
            while j < n and text[j].isspace():
                j += 1
            out.append(" ")
            i = j
        else:
            out.append(ch)
            i += 1
    return out


def squash(tokens: Sequence[str]) -> str:
    """Join tokens with whitespace collapsed, or dropped where it cannot matter (parens, commas).

    Only ever applied to text from one server, to make e.g. SQLite's verbatim
    DDL text compare equal however it was spaced.
    """
    out: list[str] = []
    for idx, tok in enumerate(tokens):
        if tok == " ":
            prev = out[-1] if out else ""
            nxt = tokens[idx + 1] if idx + 1 < len(tokens) else ""
            if not prev or not nxt or prev in ("(", ",") or nxt in ("(", ")", ",", " "):
                continue
        out.append(tok)
    return "".join(out)


def wrapped(tokens: Sequence[str]) -> bool:
    """Whether the first token's ``(`` closes at the very last token."""
    if not tokens or tokens[0] != "(" or tokens[-1] != ")":
        return False
    depth = 0
    for idx, tok in enumerate(tokens):
        if tok == "(":
            depth += 1
        elif tok == ")":
            depth -= 1
            if depth == 0:
                return idx == len(tokens) - 1
    return False


def normalize_sql(text: str | None) -> str | None:
    """Whitespace-insensitive, outer-paren-insensitive SQL text; literals untouched.

    Outer parentheses never change what an expression means, and some servers
    add them (MySQL 8 around expression defaults) while others strip them.
    """
    if text is None:
        return None
    toks = tokens(text.strip())
    while wrapped(toks):
        toks = tokens("".join(toks[1:-1]).strip())
    return squash(toks)


def balanced_prefix(text: str) -> str:
    """``text`` up to its first ``)`` that closes nothing (quotes respected).

    SQLAlchemy's SQLite reflection reads a generated column's expression with a
    greedy pattern: when more column text follows on the same line (SQLite's
    ``ADD COLUMN`` appends it there), the match runs on to the last ``)``, as in
    ``price * 100) STORED, currency VARCHAR(3``. The expression ends where the
    parenthesis it was opened with closes.
    """
    depth = 0
    out: list[str] = []
    for tok in tokens(text):
        if tok == "(":
            depth += 1
        elif tok == ")":
            depth -= 1
            if depth < 0:
                break
        out.append(tok)
    return "".join(out) if depth < 0 else text


def upper_outside_quotes(text: str) -> str:
    return "".join(tok if tok[:1] in QUOTES else tok.upper() for tok in tokens(text))


def split_top_level(tokens: Sequence[str]) -> list[list[str]]:
    parts: list[list[str]] = [[]]
    depth = 0
    for tok in tokens:
        if tok == "(":
            depth += 1
        elif tok == ")":
            depth -= 1
        if tok == "," and depth == 0:
            parts.append([])
        else:
            parts[-1].append(tok)
    return parts
