"""Catalog layer: one YAML description per dataset drives validation, access and the API."""

from stadslab.catalog.loader import Catalog, CatalogProblem, check_catalog, load_catalog
from stadslab.catalog.model import AreaSpec, Dataset, Field, Geography, Source

__all__ = ["AreaSpec", "Catalog", "CatalogProblem", "Dataset", "Field", "Geography", "Source",
           "check_catalog", "load_catalog"]
