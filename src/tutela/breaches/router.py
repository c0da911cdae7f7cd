"""`/breaches`: the breach register and its steps over HTTP, for the roles the policy names
to handle breaches (`breaches.roles`, the DPO by default); the same services as the CLI."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response, status

from tutela.breaches import book, drafts, service, steps, view
from tutela.breaches.communicate import communicate as tell
from tutela.breaches.schemas import (
    AssessIn,
    BreachDetail,
    BreachIn,
    BreachOut,
    CommunicateIn,
    CommunicateOut,
    NotificationIn,
    NotificationOut,
    ScopeIn,
)
from tutela.breaches.severity import Assessment
from tutela.clock import now
from tutela.deps import KEYED, Call, Caller, answers, call
from tutela.edges import StrictJsonRoute
from tutela.errors import Denied, InvalidInput
from tutela.subjects import service as subjects

router = APIRouter(
    route_class=StrictJsonRoute,
    prefix="/breaches",
    tags=["breaches"],
    responses=answers(*KEYED),
)
BreachId = Annotated[
    str, Path(max_length=16, pattern=r"^B-[0-9]{4}-[0-9a-f]{6}$", description="B-2026-1a2b3c")
]
Lang = Annotated[Literal["en", "fr"], Query(description="The document's language.")]


def _handler(c: Call) -> None:
    if not c.ctx.policy.handles_breaches(c.actor.roles):
        raise Denied("breaches are handled by the roles the policy names (`breaches.roles`)")


def _document(content: bytes, media: str) -> Response:
    return Response(content, media_type=media)


def _file(formats: dict[str, str], description: str) -> dict:
    return {200: {"description": description, "content": {m: {} for m in formats.values()}}}


@router.get(
    "/register",
    response_class=Response,
    responses=_file(book.FORMATS, "The register of breaches in the format asked for."),
)
def get_register(
    request: Request,
    caller: Caller,
    fmt: Annotated[Literal["csv", "html", "pdf"], Query(alias="format")] = "html",
    lang: Lang = "en",
) -> Response:
    """The register of breaches (Art. 33(5)): every one, notified or not, with its facts,
    effects, remedial action and, when not notified, why."""
    with call(request, caller) as c:
        _handler(c)
        table = book.rows(c.session, c.keyring, c.ctx.policy, now(), lang)
    return _document(book.export(table, fmt, lang, c.ctx.policy), book.FORMATS[fmt])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=BreachOut)
def open_breach(body: BreachIn, request: Request, caller: Caller) -> dict:
    """Record a breach; its deadline to notify the authority runs from `aware_at`."""
    with call(request, caller, write=True) as c:
        _handler(c)
        breach = service.open_breach(
            session=c.session,
            keyring=c.keyring,
            policy=c.ctx.policy,
            actor=c.actor,
            aware_at=body.aware_at,
            natures=body.natures,
            description=body.description,
            encrypted=body.encrypted,
            at=now(),
        )
        return service.summary(c.session, None, c.ctx.policy, breach, now())


@router.get("", response_model=list[BreachOut])
def list_breaches(request: Request, caller: Caller) -> list[dict]:
    """Every breach, with its step and the time left to notify the authority."""
    with call(request, caller) as c:
        _handler(c)
        return [
            service.summary(c.session, None, c.ctx.policy, b, now())
            for b in service.every(c.session)
        ]


@router.get("/{breach_id}", response_model=BreachDetail, responses=answers(404))
def show_breach(breach_id: BreachId, request: Request, caller: Caller) -> dict:
    """One breach: its clock, description, people and records by category, assessment,
    notifications and the messages to the people."""
    with call(request, caller) as c:
        _handler(c)
        breach = service.get(c.session, breach_id)
        return view.full(c.session, c.keyring, c.ctx.policy, breach, now())


@router.post("/{breach_id}/scope", response_model=BreachOut, responses=answers(404, 409))
def scope_breach(breach_id: BreachId, body: ScopeIn, request: Request, caller: Caller) -> dict:
    """Record the people the breach concerns: what a principal read in a window (from the
    trail), everyone holding a category, or a list of external ids."""
    with call(request, caller, write=True) as c:
        _handler(c)
        window = None
        if body.principal is not None:
            if body.from_ is None or body.until is None:
                raise InvalidInput("a principal's scope needs `from` and `until`", location="from")
            window = (body.from_, body.until)
        breach = service.get(c.session, breach_id)
        ids = None
        if body.external_ids is not None:
            ids = [subjects.get(session=c.session, external_id=e).id for e in body.external_ids]
        service.scope(
            session=c.session,
            policy=c.ctx.policy,
            actor=c.actor,
            breach=breach,
            at=now(),
            principal=body.principal,
            window=window,
            category=body.category,
            kind=body.kind,
            subject_ids=ids,
            encrypted=body.encrypted,
        )
        return service.summary(c.session, None, c.ctx.policy, breach, now())


@router.post("/{breach_id}/assess", response_model=Assessment, responses=answers(404, 409))
def assess_breach(breach_id: BreachId, body: AssessIn, request: Request, caller: Caller) -> dict:
    """The severity (ENISA) and the decisions, with their reasons: notify the authority
    (Art. 33(1)), tell the people (Art. 34(1), 34(3)(a))."""
    given = body.model_dump(
        include={"confidentiality", "integrity", "availability", "malicious", "identification"}
    )
    with call(request, caller, write=True) as c:
        _handler(c)
        return steps.assess(
            session=c.session,
            keyring=c.keyring,
            policy=c.ctx.policy,
            actor=c.actor,
            breach=service.get(c.session, breach_id),
            at=now(),
            given=given,
            measures=body.measures,
            consequences=body.consequences,
        ).as_dict()


@router.get(
    "/{breach_id}/notification",
    response_class=Response,
    responses={**_file(drafts.FORMATS, "The draft in the format asked for."), **answers(404)},
)
def draft_notification(
    breach_id: BreachId,
    request: Request,
    caller: Caller,
    fmt: Annotated[Literal["json", "html", "pdf"], Query(alias="format")] = "json",
    lang: Lang = "en",
) -> Response:
    """The next notification to the supervisory authority, drafted with every Art. 33(3)
    item and the authorities concerned by where the people live."""
    with call(request, caller, write=True) as c:  # reading the people's countries is audited
        _handler(c)
        content = drafts.draft(
            session=c.session,
            keyring=c.keyring,
            policy=c.ctx.policy,
            actor=c.actor,
            breach=service.get(c.session, breach_id),
            at=now(),
            lang=lang,
        )
    return _document(drafts.render(content, fmt), drafts.FORMATS[fmt])


@router.post(
    "/{breach_id}/notifications",
    status_code=status.HTTP_201_CREATED,
    response_model=NotificationOut,
    responses=answers(404, 409),
)
def record_notification(
    breach_id: BreachId, body: NotificationIn, request: Request, caller: Caller
) -> dict:
    """Record that the draft was submitted to the authority: the initial notification, then
    follow-ups (Art. 33(4)); past the deadline, with the reasons for the delay."""
    with call(request, caller, write=True) as c:
        _handler(c)
        breach = service.get(c.session, breach_id)
        content = drafts.draft(
            session=c.session,
            keyring=c.keyring,
            policy=c.ctx.policy,
            actor=c.actor,
            breach=breach,
            at=now(),
            lang=body.lang,
            delay_reason=body.delay_reason,
        )
        steps.record_notification(
            session=c.session,
            keyring=c.keyring,
            policy=c.ctx.policy,
            actor=c.actor,
            breach=breach,
            at=now(),
            draft=content,
            reference=body.reference,
            delay_reason=body.delay_reason,
        )
        return view.full(c.session, c.keyring, c.ctx.policy, breach, now())["notifications"][-1]


@router.post("/{breach_id}/communicate", response_model=CommunicateOut, responses=answers(404, 409))
def communicate(breach_id: BreachId, body: CommunicateIn, request: Request, caller: Caller) -> dict:
    """Tell the people concerned, each in their language through the outbox, or publicly
    when individual messages would be disproportionate (Art. 34)."""
    with call(request, caller, write=True) as c:
        _handler(c)
        return tell(
            session=c.session,
            keyring=c.keyring,
            policy=c.ctx.policy,
            actor=c.actor,
            breach=service.get(c.session, breach_id),
            at=now(),
            public=body.public,
            required_by_authority=body.required_by_authority,
        )


@router.post("/{breach_id}/close", response_model=BreachOut, responses=answers(404, 409))
def close_breach(breach_id: BreachId, request: Request, caller: Caller) -> dict:
    """Close a breach once its assessment's requirements are met; it stays in the register."""
    with call(request, caller, write=True) as c:
        _handler(c)
        breach = steps.close(
            session=c.session,
            policy=c.ctx.policy,
            actor=c.actor,
            breach=service.get(c.session, breach_id),
            at=now(),
        )
        return service.summary(c.session, None, c.ctx.policy, breach, now())
