"""The web layer: the FastAPI app (pages + JSON/GeoJSON/CSV API) and the shared serving state."""
