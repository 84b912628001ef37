"""Database errors classified by SQLSTATE (PostgreSQL Appendix A, "Error Codes"): transient ones are worth a
retry, the others (bad data, constraint violations, bugs) fail at once and say where.
"""

from __future__ import annotations

# Retried: connection exceptions (08), transaction rollbacks: serialization failures and deadlocks (40),
# insufficient resources, e.g. too many connections (53), operator intervention: admin or crash shutdown,
# cannot connect now (57P01-57P04), and statement timeouts / cancellations (57014).
TRANSIENT_SQLSTATE_PREFIXES = ("08", "40", "53", "57P0", "57014")


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a database error (ADBC's ``exc.sqlstate``), or None when the error has none."""
    return getattr(exc, "sqlstate", None) or None


def is_transient(exc: BaseException) -> bool:
    """Whether retrying may help: a SQLSTATE of :data:`TRANSIENT_SQLSTATE_PREFIXES`, or a database error with
    no SQLSTATE at all (the connection itself was lost before the server could answer)."""
    state = sqlstate(exc)
    if state is None:
        import adbc_driver_manager

        return isinstance(exc, (adbc_driver_manager.OperationalError, adbc_driver_manager.InterfaceError,
                                adbc_driver_manager.InternalError, adbc_driver_manager.DatabaseError))
    return state.startswith(TRANSIENT_SQLSTATE_PREFIXES)


class WarehouseError(Exception):
    """A statement of the load failed: names the table, the stage (``copy`` into staging, ``merge``, ``rollup``)
    and, where known, the landing files whose rows were in flight. ``transient`` says whether a retry may
    help (see :func:`is_transient`); the database error is ``__cause__``."""

    def __init__(self, table: str, stage: str, error: BaseException, files: tuple[str, ...] = ()):
        self.table, self.stage, self.files = table, stage, tuple(files)
        self.sqlstate = sqlstate(error)
        self.transient = is_transient(error)
        where = f"; files {_files_text(self.files)}" if self.files else ""
        super().__init__(f"{stage} of {table} failed (SQLSTATE {self.sqlstate or 'none'}): {first_line(error)}{where}")

    def with_files(self, files: tuple[str, ...]) -> "WarehouseError":
        """The same error naming ``files`` (the landing files of the chunk in flight)."""
        clone = WarehouseError(self.table, self.stage, self.__cause__ or self, files)
        clone.__cause__ = self.__cause__
        return clone


def first_line(error: BaseException) -> str:
    """The first line of a database error's message (the driver appends the query and context), or its type."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _files_text(files: tuple[str, ...]) -> str:
    if len(files) <= 3:
        return ", ".join(files)
    return f"{files[0]} … {files[-1]} ({len(files)} files)"
