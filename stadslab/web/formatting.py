"""Dutch number formatting shared by the web app's and the portal's templates.

The formatter itself lives in ``stadslab/formatting.py`` so the CLI uses the very same one."""

from __future__ import annotations

from stadslab.formatting import nl_date, nl_datetime, nl_number, nl_pct

__all__ = ["nl_date", "nl_datetime", "nl_number", "nl_pct"]
