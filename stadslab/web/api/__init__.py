"""The JSON/GeoJSON/CSV API behind every page (mounted under /api), one module per page's data."""

from stadslab.web.api import areas, catalog, incidents, monitor, overleg, risk
from stadslab.web.api import containers, stream
from stadslab.web.api import discovery

from stadslab.web.api import handover  # CLI commands handed to a running server (issue 10)
ROUTERS = [handover, catalog, areas, monitor, incidents, risk, overleg, stream, containers, discovery]
from stadslab.web.api import sociaal  # noqa: E402  issue 13: dashboard sociaal domein
ROUTERS.append(sociaal)
