"""The SQL files of ``sql/``: located, read and split into statements.

ADBC's DB-API runs one statement per ``execute``, so files holding several statements are split on
semicolons that end a line (the files keep every statement's final ``;`` at a line end); semicolons inside
a ``$$``-quoted function or ``DO`` body do not split.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

# The project's top-level sql/ folder, reached through the symbolic link observatory_etl/warehouse/sql ->
# ../../sql in source checkouts and editable installs; a wheel holds the files themselves at this path.
SQL_DIR = Path(__file__).parent / "sql"


def sql_dir() -> Path:
    """The folder holding the project's SQL files (``observatory_etl/warehouse/sql``, i.e. ``sql/``)."""
    return SQL_DIR


@cache
def statements(name: str) -> tuple[str, ...]:
    """The statements of ``sql/<name>.sql`` (comments kept, empty statements dropped).

    Raises:
        FileNotFoundError: no such SQL file.
    """
    text = (sql_dir() / f"{name}.sql").read_text()
    parts, current = [], []
    in_body = False  # inside a $$-quoted function or DO body, whose own ";" do not end the statement
    for line in text.splitlines():
        current.append(line)
        if not line.lstrip().startswith("--") and line.count("$$") % 2:
            in_body = not in_body
        if not in_body and line.rstrip().endswith(";") and not line.lstrip().startswith("--"):
            parts.append("\n".join(current).rstrip().rstrip(";"))
            current = []
    parts.append("\n".join(current))
    return tuple(p for p in parts if _has_code(p))


def statement(name: str) -> str:
    """The single statement of ``sql/<name>.sql``.

    Raises:
        ValueError: the file holds more or fewer than one statement.
    """
    found = statements(name)
    if len(found) != 1:
        raise ValueError(f"sql/{name}.sql holds {len(found)} statements, expected 1")
    return found[0]


def _has_code(text: str) -> bool:
    return any(line.strip() and not line.strip().startswith("--") for line in text.splitlines())
