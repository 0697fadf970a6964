"""Access by role and purpose (doelbinding), explained.

Users, roles and purposes come from the workspace config (``stadslab.yaml``, key ``access``); the
catalog says per dataset which roles and purposes may read it, and which fields per role. A check
returns a ``Permission`` that says what is allowed and why, so a refusal can be explained:

- ``open`` datasets: everybody, also without login (the public);
- ``intern``: any known user;
- ``vertrouwelijk`` and ``persoonsgegevens``: a user with one of the dataset's roles, asking for a
  purpose that is both the dataset's (``purposes``/``access.purposes``) and the user's;
- ``persoonsgegevens`` leave the process only as aggregates through the publication gate, and every
  read is written to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stadslab.catalog.model import Dataset
from stadslab.errors import AccessDenied


@dataclass(frozen=True)
class User:
    id: str
    name: str = ""
    roles: tuple[str, ...] = ()
    purposes: tuple[str, ...] = ()
    password_hash: str | None = None
    # A partner's scope, e.g. {"school": "S003"} or {"wijk_code": "WK034403"}: every figure from restricted
    # data this user gets is the slice at that school / wijk (enforced in release.py::release_aggregate).
    scope: dict[str, str] = field(default_factory=dict, hash=False, compare=False)


ANONYMOUS = User("anoniem", "publiek", roles=("publiek",))


@dataclass(frozen=True)
class AccessConfig:
    users: dict[str, User] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    purposes: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "AccessConfig":
        acc = config.get("access") or {}
        users = {}
        for u in acc.get("users") or []:
            users[u["id"]] = User(u["id"], u.get("name", ""), tuple(u.get("roles", ())), tuple(u.get("purposes", ())),
                                  u.get("password_hash"), _scope(u))
        return cls(users, dict(acc.get("roles") or {}), dict(acc.get("purposes") or {}))

    def user(self, user_id: str | None) -> User:
        if not user_id:
            return ANONYMOUS
        try:
            return self.users[user_id]
        except KeyError:
            raise AccessDenied(f"onbekende gebruiker '{user_id}'",
                               hint="gebruikers staan in stadslab.yaml onder access.users") from None


def _scope(u: dict[str, Any]) -> dict[str, str]:
    """``access.users[].scope`` as {dimension: code}; a malformed scope is an error, never "no scope"
    (that would silently widen what a partner sees)."""
    raw = u.get("scope") or {}
    if not isinstance(raw, dict) or not all(isinstance(k, str) and isinstance(v, (str, int)) and str(v)
                                            for k, v in raw.items()):
        raise AccessDenied(f"scope van gebruiker '{u.get('id')}' is ongeldig: {raw!r}",
                           hint="bijv. scope: {school: S003} of scope: {wijk_code: WK034403}")
    return {k: str(v) for k, v in raw.items()}


@dataclass(frozen=True)
class Permission:
    allowed: bool
    reason: str
    fields: tuple[str, ...] | None = None   # None: all fields
    audited: bool = False                   # reads must be written to the audit log
    gated: bool = False                     # outputs must pass the publication gate

    def require(self, dataset: Dataset) -> "Permission":
        if not self.allowed:
            raise AccessDenied(f"geen toegang tot '{dataset.id}': {self.reason}",
                               hint="vraag de privacyfunctionaris om een rol en doel voor deze dataset")
        return self


def check(dataset: Dataset, user: User, purpose: str | None) -> Permission:
    """May ``user`` read ``dataset`` for ``purpose``? Always answers with the reason."""
    c = dataset.classification
    if c == "open":
        return Permission(True, "open data")
    if user is ANONYMOUS or user.id == ANONYMOUS.id:
        return Permission(False, f"dataset is '{c}': inloggen is nodig")
    if c == "intern":
        return Permission(True, "interne dataset, bekende gebruiker")
    allowed_roles = set(dataset.access.roles)
    if not allowed_roles & set(user.roles):
        return Permission(False, f"rol {', '.join(user.roles) or '(geen)'} mag deze dataset niet lezen "
                                 f"(toegestaan: {', '.join(sorted(allowed_roles)) or 'niemand'})")
    dataset_purposes = set(dataset.access.purposes or dataset.purposes)
    if not purpose:
        return Permission(False, f"noem een doel (doelbinding); toegestaan: {', '.join(sorted(dataset_purposes))}")
    if purpose not in dataset_purposes:
        return Permission(False, f"doel '{purpose}' hoort niet bij deze dataset "
                                 f"(toegestaan: {', '.join(sorted(dataset_purposes))})")
    if purpose not in user.purposes:
        return Permission(False, f"gebruiker '{user.id}' werkt niet voor doel '{purpose}'")
    fields = None
    for role in user.roles:
        if role in dataset.access.fields:
            fields = tuple(sorted(set(fields or ()) | set(dataset.access.fields[role])))
    personal = c == "persoonsgegevens"
    return Permission(True, f"rol en doel '{purpose}' toegestaan", fields=fields, audited=personal, gated=personal)
