"""Data discovery: which area figures go together — with spatial honesty and confounder checks.

``run_discovery`` (run.py) collects every numeric variable of a level and year (variables.py), tests all
pairs with effective-sample-size p-values (stats.py), applies Benjamini–Hochberg and checks the survivors
against the usual suspects (analysis.py); ``notes.py`` records a lead as a hypothesis. docs/discovery.md.
"""

from stadslab.analyses.discovery.analysis import BLIJFT, TE_WEINIG, VERDWIJNT, Settings, Suspect, discover_matrix
from stadslab.analyses.discovery.run import CAVEAT, METHOD, DiscoveryRun, pair_record, run_discovery, save

__all__ = ["BLIJFT", "CAVEAT", "METHOD", "TE_WEINIG", "VERDWIJNT", "DiscoveryRun", "Settings", "Suspect",
           "discover_matrix", "pair_record", "run_discovery", "save"]
