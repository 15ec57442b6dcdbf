"""The email sink: customer (and merchant) emails as one way events leave the OMS.

``oms worker`` calls it like every ``EventSink``: ``subscribers`` names the template an
event is told with (switched on, someone to write to), ``prepare`` reads the facts and
writes the email in a short transaction, ``send`` hands it to the mailer outside any.
A delivery is one (event, template); its ``Message-ID`` is derived from both, so a retry
sends the very same message again and can be recognised as such.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from uuid import UUID

from oms.adapters.email.metrics import count_email
from oms.domain.notifications import CUSTOMER_TEMPLATES, Template
from oms.domain.pickup_codes import PickupCodeKey
from oms.services.common import utcnow
from oms.services.customer_email import EmailFacts, compose_email, email_templates_for
from oms.services.document_renderer import DocumentRenderer
from oms.services.events import Event, EventSink, Outcome, StatusLinks
from oms.services.mailer import EmailRenderer, Mailer, OutgoingEmail
from oms.services.ports import UnitOfWork

__all__ = ["EmailSink", "message_id_for"]

_CUSTOMER_KEYS = frozenset(template.value for template in CUSTOMER_TEMPLATES)


def message_id_for(event_id: UUID, template: Template, domain: str) -> str:
    """The Message-ID of the email ``template`` sends for event ``event_id``: the same for
    every attempt."""
    return f"<{event_id}.{template.value}@{domain}>"


class EmailSink(EventSink):
    """Emails through ``mailer``, written by ``renderer``; ``default_sender`` is the address
    of tenants that set none; ``message_id_domain`` the right-hand side of Message-IDs;
    ``documents`` draws the files an email carries (a return label's PDF and QR code)."""

    def __init__(
        self,
        *,
        mailer: Mailer,
        renderer: EmailRenderer,
        links: StatusLinks,
        pickup_key: PickupCodeKey,
        default_sender: str,
        message_id_domain: str,
        clock: Callable[[], datetime] = utcnow,
        documents: DocumentRenderer | None = None,
    ) -> None:
        self.mailer = mailer
        self._renderer = renderer
        self._links = links
        self._pickup_key = pickup_key
        self._default_sender = default_sender
        self._domain = message_id_domain
        self._clock = clock
        self._documents = documents  # draws the files emails carry; None: no files
        # The facts read in one transaction, reused for the rest of it (a batch); the
        # worker fans out and prepares on one thread.
        self._shared: EmailFacts | None = None

    @property
    def kind(self) -> str:
        return "email"

    def _facts(self, uow: UnitOfWork) -> EmailFacts:
        """What this transaction's emails share (a batch is one transaction)."""
        if self._shared is None or self._shared.uow is not uow:
            self._shared = EmailFacts(uow)
        return self._shared

    def subscribers(self, uow: UnitOfWork, event: Event) -> Sequence[str]:
        return email_templates_for(uow, event, self._facts(uow))

    def prepare(self, uow: UnitOfWork, event: Event, key: str) -> OutgoingEmail | None:
        return self.prepare_many(uow, [(event, key)])[0]

    def prepare_many(
        self, uow: UnitOfWork, wanted: Sequence[tuple[Event, str]]
    ) -> list[OutgoingEmail | None]:
        """Each email of a batch, written from facts read once for all of them: every order
        they tell of in one query per tenant, each tenant's settings once."""
        facts = self._facts(uow)
        facts.preload(
            (event.tenant_id, event.aggregate_id) for event, key in wanted if key in _CUSTOMER_KEYS
        )
        now = self._clock()
        return [self._written(uow, facts, event, key, now) for event, key in wanted]

    def _written(
        self, uow: UnitOfWork, facts: EmailFacts, event: Event, key: str, now: datetime
    ) -> OutgoingEmail | None:
        try:
            template = Template(key)
        except ValueError:
            return None
        draft = compose_email(
            uow,
            event,
            template,
            links=self._links,
            pickup_key=self._pickup_key,
            now=now,
            facts=facts,
            documents=self._documents,
        )
        if draft is None:
            return None
        rendered = self._renderer.render(draft.context)
        return OutgoingEmail(
            message_id=message_id_for(event.id, template, self._domain),
            sender_name=draft.context.branding.display_name,
            sender_address=draft.sender_address or self._default_sender,
            to=draft.to,
            reply_to=draft.reply_to,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            template=template,
            attachments=draft.attachments,
        )

    def close(self) -> None:
        """Close the mail server connection of the calling thread, if the mailer keeps one
        (``oms worker`` closes its sinks when it stops)."""
        close = getattr(self.mailer, "close", None)
        if callable(close):
            close()

    def send(self, prepared: object, *, event: Event, key: str, attempt: int) -> Outcome:
        if not isinstance(prepared, OutgoingEmail):
            return Outcome(delivered=False, error="nothing prepared to send", final=True)
        started = time.perf_counter()
        receipt = self.mailer.send(prepared)
        latency = (time.perf_counter() - started) * 1000
        count_email(key, accepted=receipt.accepted, final=receipt.permanent)
        if receipt.accepted:
            return Outcome(delivered=True, status_code=receipt.code, latency_ms=latency)
        return Outcome(
            delivered=False,
            status_code=receipt.code,
            error=receipt.detail[:500] or "not accepted",
            latency_ms=latency,
            final=receipt.permanent,
        )
