"""Who may do what: the simulated cluster's two users and their roles.

The on-call user may do anything in the application's namespace, read everywhere,
and cordon and drain nodes; the read-only user may get, list and watch, and nothing
else (no exec, no eviction).

A real cluster tells them apart by their credentials. Over plain http kubectl sends
no credentials at all, so the read-only user's kubeconfig context points at the
same server under the path prefix `/readonly` (kubectl keeps a server URL's path in
front of every request); the python client sends its bearer token, which the
server maps to its user. Requests with neither are the on-call user's, as on the
loopback server the war room has always used.
"""

from __future__ import annotations

from dataclasses import dataclass

ONCALL = "luckygas-oncall"
READONLY = "luckygas-readonly"
READ_ONLY_PREFIX = "/readonly"
READ_VERBS = frozenset({"get", "list", "watch"})
NODE_VERBS = frozenset({"get", "list", "watch", "patch", "update"})


@dataclass(frozen=True, slots=True)
class Attributes:
    """What a request asks to do, as an authorizer sees it."""

    verb: str
    group: str
    resource: str
    subresource: str = ""
    namespace: str = ""
    name: str = ""

    @property
    def full_resource(self) -> str:
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource


def allowed(user: str, attrs: Attributes, namespace: str) -> bool:
    """Whether `user` may do `attrs` in a cluster whose application lives in `namespace`."""
    if attrs.resource == "selfsubjectaccessreviews":
        return True  # anyone may ask what they may do
    if user == READONLY:
        return attrs.verb in READ_VERBS and attrs.subresource not in ("exec", "eviction")
    if attrs.namespace:
        return attrs.namespace == namespace or attrs.verb in READ_VERBS
    if attrs.resource == "nodes":
        return attrs.verb in NODE_VERBS
    return attrs.verb in READ_VERBS


def forbidden_message(user: str, attrs: Attributes) -> str:
    """The API server's wording, which kubectl prints after "Error from server (Forbidden)"."""
    qualified = f"{attrs.resource}.{attrs.group}" if attrs.group else attrs.resource
    what = f'{qualified} "{attrs.name}"' if attrs.name else qualified
    where = (f'in the namespace "{attrs.namespace}"' if attrs.namespace
             else "at the cluster scope")
    return (f'{what} is forbidden: User "{user}" cannot {attrs.verb} resource '
            f'"{attrs.full_resource}" in API group "{attrs.group}" {where}')


_METHOD_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


def attributes(method: str, path: str, query: dict[str, str]) -> Attributes | None:
    """The request's attributes, from its path (None for discovery and other non-resource
    paths)."""
    parts = [p for p in path.split("/") if p]
    if parts[:2] == ["api", "v1"]:
        group, rest = "", parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, rest = parts[1], parts[3:]
    else:
        return None
    namespace = ""
    if len(rest) >= 3 and rest[0] == "namespaces":
        namespace, rest = rest[1], rest[2:]
    if not rest:
        return None
    resource, name = rest[0], rest[1] if len(rest) > 1 else ""
    sub = rest[2] if len(rest) > 2 else ""
    if method in ("GET", "HEAD"):
        if sub == "exec":
            verb = "create"  # exec is a create, whatever method carries the upgrade
        elif name:
            verb = "get"
        else:
            verb = "watch" if query.get("watch") in ("1", "true") else "list"
    else:
        verb = _METHOD_VERBS.get(method, method.lower())
        if verb == "delete" and not name:
            verb = "deletecollection"
    return Attributes(verb, group, resource, sub, namespace, name)
