"""The project register: what the municipality does with data, why, who takes part, and did it work.

Layer: above the catalog, warehouse and analyses (it names them and reads stored results); pages in
``stadslab/web/pages/projecten.py``, commands in ``stadslab/cli/project.py``.

- ``model.py``: the typed record (ladder rung, status, open/closed per phase, hypotheses, public value,
  evaluations); ``schema.yaml`` its structure.
- ``register.py``: read and check ``projects/*.yaml`` of a workspace (references to datasets, results and
  pages; closed phases need a reason) and keep versions of every change.
- ``live.py``: figures from stored results, with provenance.
- ``runner.py``: the small registry of analyses a project can run (``stadslab project run``).
- ``report.py``: the programme-level interim evaluation (HTML, PDF).
- ``package.py``: export a pilot and import it in another municipality's workspace.
"""

from stadslab.projects.model import PHASES, RUNGS, STATUSES, Project
from stadslab.projects.register import load_projects, projects_folder, read_projects

__all__ = ["PHASES", "RUNGS", "STATUSES", "Project", "load_projects", "projects_folder", "read_projects"]
