"""Load and validate a policy file; an invalid policy never starts anything."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from tutela.errors import TutelaError
from tutela.policy.schema import Policy, PolicyReferenceError

__all__ = [
    "DEFAULT_POLICY",
    "PolicyError",
    "load_policy",
    "parse_policy",
    "parse_stored",
    "policy_digest",
    "policy_text",
]

DEFAULT_POLICY = "default.yaml"


class PolicyError(TutelaError):
    """An invalid policy file; each problem names its key path and what was expected."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"invalid policy {source}: " + "; ".join(problems))


def _key_path(loc: tuple) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def parse_policy(text: str, *, source: str = "<text>") -> Policy:
    try:
        data = yaml.safe_load(text)
    except RecursionError:  # brackets nested past the parser's depth: no policy is that deep
        raise PolicyError(source, ["(top level): nested too deeply to be a policy"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise PolicyError(
            source, [f"{where}not valid YAML ({getattr(exc, 'problem', exc)})"]
        ) from None
    if not isinstance(data, dict):
        raise PolicyError(source, ["(top level): expected a mapping of policy sections"])
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            cause = err.get("ctx", {}).get("error")
            if isinstance(cause, PolicyReferenceError):
                problems += [f"{path}: {message}" for path, message in cause.problems]
            else:
                problems.append(f"{_key_path(err['loc'])}: {err['msg']}")
        raise PolicyError(source, problems) from None


def _read(path: Path | None) -> tuple[str, str]:
    if path is None:
        return resources.files("tutela.policy").joinpath(DEFAULT_POLICY).read_text("utf-8"), (
            "bundled default policy"
        )
    try:
        return Path(path).read_text("utf-8"), str(path)
    except OSError as exc:
        raise PolicyError(str(path), [f"cannot read the file ({exc.strerror})"]) from None


@lru_cache(maxsize=16)
def parse_stored(text: str) -> Policy:
    """A stored version's policy, parsed once per process: parsing and validating a policy
    costs about 0.1 s, and every command and worker looks the version in force up."""
    return parse_policy(text, source="the stored policy version")


def policy_text(path: Path | None = None) -> str:
    """The text of the policy file at `path`, or of the bundled default one."""
    return _read(path)[0]


@lru_cache(maxsize=8)
def load_policy(path: Path | None = None) -> Policy:
    """The policy in `path`, or the bundled default one. Cached: policies are immutable."""
    text, source = _read(path)
    return parse_policy(text, source=source)


def policy_digest(policy: Policy) -> str:
    """A short fingerprint of a policy's content, stored beside decisions made under it."""
    return hashlib.sha256(policy.model_dump_json().encode()).hexdigest()[:16]
