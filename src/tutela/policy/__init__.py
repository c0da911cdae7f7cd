"""The policy as code: schema, loading and the bundled default policy."""

from tutela.policy.loader import (
    PolicyError,
    load_policy,
    parse_policy,
    policy_digest,
    policy_text,
)
from tutela.policy.schema import Policy

__all__ = ["Policy", "PolicyError", "load_policy", "parse_policy", "policy_digest", "policy_text"]
