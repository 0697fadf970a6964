"""Typed errors that carry what a user needs to fix the problem.

    StadslabError
    ├── CatalogError            a dataset description is broken (file + key path)
    ├── WorkspaceError          no workspace, or a broken workspace config
    ├── IngestError
    │   ├── ReaderError         a source file cannot be read (file, sheet, row, column)
    │   ├── ValidationFailed    values do not match the catalog (carries a ValidationReport)
    │   └── SchemaDrift         columns are new, missing or renamed
    ├── WarehouseError
    │   └── VersionNotFound
    ├── GeographyError          no area division for a year, bad geometry
    ├── AnalysisError           an analysis cannot run on the data it was given
    └── PrivacyError
        ├── AccessDenied        role or purpose does not allow this read
        └── RawBSNDetected      a column holds real-looking BSNs

The CLI prints ``str(error)`` (Dutch-friendly, no stack trace) and exits with ``error.exit_code``.
"""

from __future__ import annotations


class StadslabError(Exception):
    """Base class. ``hint`` says how to fix it; ``exit_code`` is what the CLI returns."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  → {self.hint}" if self.hint else self.message


class CatalogError(StadslabError):
    exit_code = 3

    def __init__(self, message: str, *, file: str | None = None, key_path: str | None = None,
                 hint: str | None = None) -> None:
        where = ""
        if file:
            where = f"{file}"
            if key_path:
                where += f" [{key_path}]"
            where += ": "
        super().__init__(where + message, hint=hint)
        self.file = file
        self.key_path = key_path


class WorkspaceError(StadslabError):
    exit_code = 2


class IngestError(StadslabError):
    exit_code = 4


class ReaderError(IngestError):
    """A file cannot be read. Names file, sheet, row and column where known."""

    def __init__(self, message: str, *, file: str, sheet: str | None = None, row: int | None = None,
                 column: str | None = None, expected: str | None = None, hint: str | None = None) -> None:
        parts = [f"bestand {file}"]
        if sheet:
            parts.append(f"blad '{sheet}'")
        if row is not None:
            parts.append(f"rij {row}")
        if column:
            parts.append(f"kolom '{column}'")
        text = ", ".join(parts) + f": {message}"
        if expected:
            text += f" (verwacht: {expected})"
        super().__init__(text, hint=hint)
        self.file, self.sheet, self.row, self.column, self.expected = file, sheet, row, column, expected


class ValidationFailed(IngestError):
    """Rows do not match the catalog and the catalog says to refuse the load."""

    exit_code = 5

    def __init__(self, report: "object", *, hint: str | None = None) -> None:  # report: ValidationReport
        super().__init__(str(report), hint=hint or
                         "Verbeter de genoemde rijen, of zet 'load.on_invalid: reject' in de catalogus "
                         "om ongeldige rijen apart te zetten.")
        self.report = report


class SchemaDrift(IngestError):
    exit_code = 6


class WarehouseError(StadslabError):
    exit_code = 7


class VersionNotFound(WarehouseError):
    pass


class GeographyError(StadslabError):
    exit_code = 8


class AnalysisError(StadslabError):
    exit_code = 9


class PrivacyError(StadslabError):
    exit_code = 10


class AccessDenied(PrivacyError):
    exit_code = 11


class RawBSNDetected(PrivacyError):
    exit_code = 12
