"""The publication gate: the one path by which aggregates of personal data leave Stadslab.

    from stadslab.privacy.gate import protect
    pt = protect(df, count="n", dims=["buurt", "categorie"], hierarchy={"buurt": "wijk"})
    pt.to_pandas(public=True)      # every cell and margin; suppressed → NULL + 'onderdrukt'
    pt.select(cat="X")             # a whole-category slice, same suppression pattern
    protect_linked(cover, count="n", dims=[...], tables=[[...], [...]])   # tables sharing margins

Method, threshold, zeros, differencing defence and the safety argument: docs/adr/0001-publication-gate.md.
"""

from stadslab.privacy.gate.differencing import StructureRegistry, TableStructure, select, whole_category_filters
from stadslab.privacy.gate.primary import DEFAULT_MIN_CELL, min_cell_for
from stadslab.privacy.gate.protect import ALGORITHM, ProtectedTable, protect, protect_linked
from stadslab.privacy.gate.suppression_store import SuppressionStore

__all__ = ["ALGORITHM", "DEFAULT_MIN_CELL", "ProtectedTable", "StructureRegistry", "SuppressionStore",
           "TableStructure", "min_cell_for", "protect", "protect_linked", "select", "whole_category_filters"]
