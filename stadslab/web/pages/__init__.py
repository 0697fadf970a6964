"""Pages of the web app, one module per page, registered in this explicit list (order = routing order)."""

from stadslab.web.pages import auth, dataset, docs, home, incidenten, monitor, overleg, risico
from stadslab.web.pages import containers, projecten
from stadslab.web.pages import containers_plan
from stadslab.web.pages import ontdekken
from stadslab.web.pages import signalen
from stadslab.web.pages import weesfietsen

PAGES = [home, auth, monitor, incidenten, risico, overleg, projecten, ontdekken, containers_plan, containers, weesfietsen, signalen, dataset, docs]
from stadslab.web.pages import sociaal  # noqa: E402  issue 13: dashboard sociaal domein
PAGES.insert(PAGES.index(dataset), sociaal)
