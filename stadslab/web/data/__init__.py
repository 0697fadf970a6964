"""Data behind the pages and the API: one function per view, shared by HTML, JSON, GeoJSON and CSV."""
