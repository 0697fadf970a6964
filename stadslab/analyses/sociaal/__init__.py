"""Sociaal domein: the Dynamisch Data Dashboard (issue 13) — linked frame, profiles, intervention effect.

``linked.py`` links the project-pseudonymised sources of project ``ddd`` into one frame per pupil ×
school year (Ibis only); profiles and the effect build on it and release figures only through the gate.
"""

from stadslab.analyses.sociaal.linked import linked_frame, linked_sources

__all__ = ["linked_frame", "linked_sources"]
