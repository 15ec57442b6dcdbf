"""Who is looking: the session cookie read and written, the signed-in user, the tenant
they look at, the CSRF check of every form, and the login, logout and tenant-switch pages.

A merchant user looks at its own tenant and nothing else; an operator user looks at the
tenant it picked in the switcher, or at all of them (``Viewer.tenant_id`` None) where a page
lists things. Every change a user makes carries ``Actor("user", <user id>)``, so it lands in
the order's timeline under the user's name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import parse_qsl, quote
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from oms.api.deps import AppState
from oms.domain.orders import Actor
from oms.domain.tenancy import Tenant
from oms.domain.users import LOCKOUT, MAX_FAILED_LOGINS, User
from oms.services import users as user_services
from oms.services.tenants import list_tenants
from oms.services.users import PasswordHasher
from oms.web.portal.rendering import PortalPages
from oms.web.portal.session import ALL_TENANTS, COOKIE, MAX_AGE, Session, SessionCodec

__all__ = [
    "CsrfRefused",
    "Form",
    "Portal",
    "PortalDep",
    "SignInNeeded",
    "Viewer",
    "ViewerDep",
    "router",
]

router = APIRouter(prefix="/app", include_in_schema=False)

REFUSED = (
    "Signing in did not work: check the email and the password. After "
    f"{MAX_FAILED_LOGINS} failed tries an account is locked for "
    f"{int(LOCKOUT.total_seconds() // 60)} minutes."
)
MAX_FORM_BYTES = 100_000


@dataclass
class Portal:
    """What the portal's routes share (``app.state.portal``)."""

    pages: PortalPages
    codec: SessionCodec
    hasher: PasswordHasher
    decoy_hash: str
    secure_cookies: bool

    def keep(self, response: Response, session: Session) -> Response:
        """``response`` with the session's cookie set."""
        response.set_cookie(
            COOKIE,
            self.codec.dump(session),
            max_age=MAX_AGE,
            path="/app",
            httponly=True,
            samesite="lax",
            secure=self.secure_cookies,
        )
        return response


class SignInNeeded(Exception):
    """No signed-in user: the page sends the browser to the login form."""

    def __init__(self, back_to: str) -> None:
        self.back_to = back_to


class CsrfRefused(Exception):
    """A form came without this session's CSRF token: 403."""


class Forbidden(Exception):
    """The user's role may not do this: 403."""


def _portal(request: Request) -> Portal:
    portal: Portal = request.app.state.portal
    return portal


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.oms
    return state


async def _portal_dep(request: Request) -> Portal:
    return _portal(request)


PortalDep = Annotated[Portal, Depends(_portal_dep)]


def session_of(request: Request) -> Session | None:
    return _portal(request).codec.load(request.cookies.get(COOKIE))


@dataclass(frozen=True)
class Form:
    """A submitted urlencoded form: every value of each field."""

    fields: dict[str, list[str]] = field(default_factory=dict)

    def get(self, name: str) -> str:
        values = self.fields.get(name)
        return values[0].strip() if values else ""

    def all(self, name: str) -> list[str]:
        return self.fields.get(name, [])


async def read_form(request: Request) -> Form:
    """The request's urlencoded form (a larger body than a form needs is refused)."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise CsrfRefused
    fields: dict[str, list[str]] = {}
    for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
        fields.setdefault(name, []).append(value)
    return Form(fields)


@dataclass(frozen=True)
class Viewer:
    """The signed-in user of a request, its session, and the tenant it looks at (None:
    all tenants, for operators)."""

    user: User
    session: Session
    tenant_id: UUID | None
    tenants: list[Tenant]

    @property
    def actor(self) -> Actor:
        return Actor("user", str(self.user.id))

    @property
    def csrf(self) -> str:
        return self.session.csrf

    def may_see(self, tenant_id: UUID) -> bool:
        """Whether the user may read ``tenant_id``'s orders."""
        return self.user.role.is_operator or self.user.tenant_id == tenant_id

    @property
    def tenant_names(self) -> dict[UUID, str]:
        return {t.id: t.name for t in self.tenants}


def _looking_at(user: User, session: Session, tenants: list[Tenant]) -> UUID | None:
    if not user.role.is_operator:
        return user.tenant_id
    if session.tenant in (None, ALL_TENANTS):
        return None
    try:
        picked = UUID(session.tenant or "")
    except ValueError:
        return None
    return picked if any(t.id == picked for t in tenants) else None


async def _viewer(request: Request) -> Viewer:
    session = session_of(request)
    back_to = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if session is None or session.user_id is None:
        raise SignInNeeded(back_to)
    state = app_state(request)
    user = await run_in_threadpool(
        user_services.active_user, uow_factory=state.uow_factory, user_id=session.user_id
    )
    if user is None:
        raise SignInNeeded(back_to)
    tenants = await run_in_threadpool(list_tenants, uow_factory=state.uow_factory)
    if not user.role.is_operator:
        tenants = [t for t in tenants if t.id == user.tenant_id]
    return Viewer(user, session, _looking_at(user, session, tenants), tenants)


ViewerDep = Annotated[Viewer, Depends(_viewer)]


async def checked_form(request: Request) -> Form:
    """The form of a POST, refused (403) unless it carries the session's CSRF token."""
    form = await read_form(request)
    session = session_of(request)
    if session is None or not session.accepts(form.get("csrf_token")):
        raise CsrfRefused
    return form


CheckedForm = Annotated[Form, Depends(checked_form)]


def actor_may_act(viewer: Viewer) -> None:
    if not viewer.user.role.may_act:
        raise Forbidden


def _safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of the portal only (no open redirect)."""
    if target and target.startswith("/app") and not target.startswith("//"):
        return target
    return "/app/dashboard"


@router.get("/login")
def login_form(request: Request, portal: PortalDep, next: str | None = None) -> Response:
    """The login form (a visitor gets a session with a CSRF token for it)."""
    session = session_of(request) or Session.fresh()
    page = portal.pages.render(
        "login.html", csrf=session.csrf, next=_safe_next(next), message=None, email=""
    )
    return portal.keep(page, session)


@router.post("/login")
async def login(request: Request, portal: PortalDep, form: CheckedForm) -> Response:
    """Sign in with ``email`` and ``password``; one answer for every refusal."""
    state = app_state(request)
    user = await run_in_threadpool(
        user_services.sign_in,
        uow_factory=state.uow_factory,
        hasher=portal.hasher,
        email=form.get("email"),
        password=form.fields.get("password", [""])[0],
        now=portal.pages.clock.now(),
        decoy_hash=portal.decoy_hash,
    )
    session = session_of(request) or Session.fresh()
    if user is None:
        page = portal.pages.render(
            "login.html",
            status=401,
            csrf=session.csrf,
            next=_safe_next(form.get("next")),
            message=REFUSED,
            email=form.get("email"),
        )
        return portal.keep(page, session)
    signed_in = session.signed_in(user.id)
    return portal.keep(RedirectResponse(_safe_next(form.get("next")), 303), signed_in)


@router.post("/logout", dependencies=[Depends(checked_form)])
def logout() -> Response:
    """Sign out: the session cookie is cleared."""
    response = RedirectResponse("/app/login", 303)
    response.delete_cookie(COOKIE, path="/app")
    return response


@router.post("/tenant")
def switch_tenant(viewer: ViewerDep, portal: PortalDep, form: CheckedForm) -> Response:
    """An operator picks the tenant to look at (or all of them)."""
    picked = form.get("tenant") or ALL_TENANTS
    session = viewer.session if not viewer.user.role.is_operator else viewer.session.picking(picked)
    return portal.keep(RedirectResponse(_safe_next(form.get("next")), 303), session)


def login_redirect(back_to: str) -> Response:
    return RedirectResponse(f"/app/login?next={quote(back_to, safe='')}", 303)
