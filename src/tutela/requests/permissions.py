"""Who may do what with rights requests, from the policy's `rights_requests` section.

Roles granted the rights-requests purpose steer requests: they list, show, open on someone's
behalf, verify, extend, process, refuse and export them. A door (a role of
`rights_requests.doors`: the company's applications, an OpenGDPR client) submits requests
for the people themselves, online only, and follows, verifies with the person's code or
cancels only those it submitted. The person who made a request on the portal, proven by
the portal's grant for it, follows it and gets its copy. Nobody else touches requests.
"""

from __future__ import annotations

from tutela.access.gate import Actor
from tutela.errors import Denied, NotFound
from tutela.policy.schema import Policy
from tutela.requests.models import RightsRequest

__all__ = [
    "opened_by_filter",
    "requester",
    "require_door_or_steering",
    "require_own",
    "require_steering",
    "require_steering_or_requester",
    "steers",
]


def steers(policy: Policy, actor: Actor) -> bool:
    return policy.steers_requests(actor.roles)


def require_steering(policy: Policy, actor: Actor) -> None:
    if not steers(policy, actor):
        raise Denied(
            f"only a role granted '{policy.rights_requests.purpose}' may do this with rights "
            "requests"
        )


def require_door_or_steering(policy: Policy, actor: Actor) -> None:
    """For opening a request: a steering role, or a door of the policy."""
    if not steers(policy, actor) and not policy.is_door(actor.roles):
        raise Denied(
            f"only a role granted '{policy.rights_requests.purpose}', or a door of the policy "
            f"({', '.join(policy.rights_requests.doors) or 'none'}), may open rights requests"
        )


def require_own(policy: Policy, actor: Actor, request: RightsRequest) -> None:
    """A steering role reaches every request; a door only those it submitted. Another's
    request is not found, so that a door learns nothing of requests it did not submit."""
    if steers(policy, actor):
        return
    if not policy.is_door(actor.roles):
        require_steering(policy, actor)
    if request.opened_by != actor.name:
        raise NotFound(f"no request {request.id}")


def opened_by_filter(policy: Policy, actor: Actor) -> str | None:
    """Whose requests the actor may list: everyone's (None) for a steering role, its own for
    a door; nobody else lists requests."""
    if steers(policy, actor):
        return None
    if policy.is_door(actor.roles):
        return actor.name
    require_steering(policy, actor)
    return None


REQUESTER = "requester:"


def requester(request_id: str) -> Actor:
    """The person who made a portal request, once the portal has checked its grant: used
    only to export that request's copy, which holds their own data and nobody else's (Art.
    15(3)). No role of the policy is theirs, so no grant limits what the copy reads: the
    copy's own rules do, as for the copy e-mailed to them; the trail names them."""
    return Actor(f"{REQUESTER}{request_id}", None)


def require_steering_or_requester(policy: Policy, actor: Actor, request: RightsRequest) -> None:
    """A steering role, or the person who made this portal request (their own copy)."""
    if actor.name.startswith(REQUESTER):  # never a role of its own: this request only
        if actor == requester(request.id) and request.channel == "portal":
            return
        raise Denied("a person gets the copy of their own portal request only")
    require_steering(policy, actor)
