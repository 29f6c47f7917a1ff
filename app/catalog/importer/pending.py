"""A previewed file kept until the seller confirms it: the seller area's import is two requests.

Between the preview and the confirmation the file's bytes wait in the database
(:class:`app.catalog.models.PendingImport`), never in the page and never on one machine's disk:
with several web machines the confirmation may reach another machine than the preview did.
Only a random token travels in the page; the row is found by its hash and the seller's id, so a
token is worthless to anyone else. A file is claimed at most once (a ``DELETE … RETURNING``: of
two confirmations at once, one gets it), and files older than :data:`PENDING_MAX_AGE` are
refused and removed whenever another is kept.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

import sqlalchemy as sa

from app.catalog.models import PendingImport
from app.core.db import transaction
from app.core.timeutil import utcnow

PENDING_MAX_AGE = timedelta(hours=1)
_TOKEN = re.compile(r"[0-9a-f]{32}")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def keep_pending(seller_id: int, data: bytes) -> str:
    """Keep ``data`` for ``seller_id``'s confirmation; returns the token the page carries."""
    token = secrets.token_hex(16)
    now = utcnow()
    with transaction() as session:
        session.execute(
            sa.delete(PendingImport).where(PendingImport.created_at < now - PENDING_MAX_AGE)
        )
        session.add(
            PendingImport(token_hash=_hash(token), seller_id=seller_id, data=data, created_at=now)
        )
    return token


def claim_pending(seller_id: int, token: str | None) -> bytes | None:
    """The kept file of ``token``, taken (at most once); None when the token is malformed,
    unknown, already claimed, expired or another seller's."""
    if not token or not _TOKEN.fullmatch(token):
        return None
    with transaction() as session:
        row = session.execute(
            sa.delete(PendingImport)
            .where(
                PendingImport.token_hash == _hash(token),
                PendingImport.seller_id == seller_id,
            )
            .returning(PendingImport.data, PendingImport.created_at)
            .execution_options(synchronize_session=False)
        ).first()
    if row is None or row.created_at < utcnow() - PENDING_MAX_AGE:
        return None
    return bytes(row.data)
