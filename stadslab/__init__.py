"""Stadslab: datagedreven sturing for Dutch municipalities.

Layers, one direction: catalog → ingest → warehouse → privacy gate → analyses → web / portal / CLI.
See docs/ARCHITECTURE.md.
"""

__version__ = "0.1.0"
