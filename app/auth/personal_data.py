"""A person's own data, as one JSON document they can download from their account page.

Everything the market keeps about the account and what it did: the account itself, its logins,
its cart, its favourites and followed shops, its back-in-stock alerts, its orders (with their lines, addresses and history),
its payments, the problems it reported, the messages it wrote in conversations (with the
addresses of their photos), the reviews it wrote (with their photos) and the reports of reviews
it made, and for a
seller the shop's details and listings. Amounts are integers in the
currency's smallest unit (``currency`` says which); times are UTC in ISO 8601. Secrets are left
out: the password hash, login ids, payment tokens and card numbers.

Here in the blueprint layer because it reads every domain package's tables, and none of them may
import the others above it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.accounts.models import LoginSession, User
from app.catalog import favourites, stock_alerts
from app.catalog.models import Product, Seller
from app.conversations.models import ConversationMessage
from app.core.extensions import db
from app.core.timeutil import utcnow
from app.disputes.models import OrderProblem
from app.media.store import media_url
from app.orders import addresses
from app.orders.models import CartLine, Order
from app.payments.models import Payment
from app.reviews.models import Review, ReviewReport

FORMAT_VERSION = 1


def _when(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _enum(value: Any) -> Any:
    return getattr(value, "value", value)


def export(user: User) -> dict[str, Any]:
    """Everything kept about ``user``, as plain JSON values."""
    return {
        "format": FORMAT_VERSION,
        "exported_at": _when(utcnow()),
        "account": {
            "id": user.id,
            "name": user.name,
            "email": user.email,
            "email_verified_at": _when(user.email_verified_at),
            "phone": user.phone,
            "mobile": user.mobile,
            "mobile_verified_at": _when(user.mobile_verified_at),
            "locale": user.locale,
            "role": _enum(user.role),
            "active": user.active,
            "created_at": _when(user.created_at),
            "last_login_at": _when(user.last_login_at),
        },
        "logins": _logins(user.id),
        "cart": _cart(user.id),
        **favourites.personal_data(user.id),
        **stock_alerts.personal_data(user.id),
        "saved_addresses": [
            {
                "recipient_name": row.recipient_name,
                "mobile": row.mobile,
                "province": row.province,
                "city": row.city,
                "address": row.address,
                "postal_code": row.postal_code,
                "last_used_at": _when(row.last_used_at),
            }
            for row in addresses.saved(user.id)
        ],
        "orders": _orders(user.id),
        "payments": _payments(user.id),
        "problems_reported": _problems(user.id),
        "messages_written": _messages(user.id),
        "reviews_written": _reviews(user.id),
        "reviews_reported": _review_reports(user.id),
        "shop": _shop(user.id),
    }


def _logins(user_id: int) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        sa.select(LoginSession)
        .where(LoginSession.user_id == user_id)
        .order_by(LoginSession.created_at)
    )
    return [
        {
            "created_at": _when(row.created_at),
            "last_seen_at": _when(row.last_seen_at),
            "ended_at": _when(row.ended_at),
            "user_agent": row.user_agent,
        }
        for row in rows
    ]


def _cart(user_id: int) -> list[dict[str, Any]]:
    rows = db.session.execute(
        sa.select(CartLine, Product.title)
        .outerjoin(Product, Product.id == CartLine.product_id)
        .where(CartLine.user_id == user_id)
        .order_by(CartLine.id)
    )
    return [
        {
            "product_id": line.product_id,
            **({"variant_id": line.variant_id} if line.variant_id is not None else {}),
            "title": title,
            "quantity": line.quantity,
            "price_seen_amount": line.seen_price_amount,
            "added_at": _when(line.added_at),
        }
        for line, title in rows
    ]


def _orders(user_id: int) -> list[dict[str, Any]]:
    orders = db.session.scalars(
        sa.select(Order)
        .where(Order.customer_id == user_id)
        .options(selectinload(Order.lines), selectinload(Order.status_changes))
        .order_by(Order.id)
    )
    return [
        {
            "id": order.id,
            "created_at": _when(order.created_at),
            "status": _enum(order.status),
            "seller_id": order.seller_id,
            "currency": order.currency,
            "subtotal_amount": order.subtotal_amount,
            "shipping_amount": order.shipping_amount,
            "total_amount": order.total_amount,
            "recipient": {
                "name": order.recipient_name,
                "mobile": order.mobile,
                "province": order.province,
                "city": order.city,
                "address": order.address,
                "postal_code": order.postal_code,
            },
            "shipping": {
                "method": order.shipping_method_name,
                "carrier": order.carrier or order.shipping_carrier,
                "tracking_code": order.tracking_code,
                "ship_by": _when(order.ship_by),
                "deliver_by": _when(order.deliver_by),
            },
            "cancel_reason": order.cancel_reason,
            "lines": [
                {
                    "product_id": line.product_id,
                    "title": line.product_title,
                    **(
                        {"variant": line.variant_label, "sku": line.sku}
                        if line.variant_label
                        else {}
                    ),
                    "seller": line.seller_name,
                    "unit_price_amount": line.unit_price_amount,
                    "quantity": line.quantity,
                    "line_total_amount": line.line_total_amount,
                }
                for line in order.lines
            ],
            "history": [
                {
                    "from": _enum(change.from_status),
                    "to": _enum(change.to_status),
                    "at": _when(change.created_at),
                    "reason": change.reason,
                }
                for change in order.status_changes
            ],
        }
        for order in orders
    ]


def _payments(user_id: int) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        sa.select(Payment).where(Payment.customer_id == user_id).order_by(Payment.id)
    )
    return [
        {
            "id": row.id,
            "provider": _enum(row.provider),
            "status": _enum(row.status),
            "amount": row.amount,
            "currency": row.currency,
            "created_at": _when(row.created_at),
            "order_ids": [order.id for order in row.orders],
        }
        for row in rows
    ]


def _problems(user_id: int) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        sa.select(OrderProblem).where(OrderProblem.customer_id == user_id).order_by(OrderProblem.id)
    )
    return [
        {
            "order_id": row.order_id,
            "kind": _enum(row.kind),
            "description": row.description,
            "status": _enum(row.status),
            "seller_reply": row.seller_reply,
            "resolution": _enum(row.resolution),
            "created_at": _when(row.created_at),
        }
        for row in rows
    ]


def _messages(user_id: int) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        sa.select(ConversationMessage)
        .where(ConversationMessage.sender_id == user_id)
        .options(selectinload(ConversationMessage.photos))
        .order_by(ConversationMessage.id)
    )
    return [
        {
            "conversation_id": row.conversation_id,
            "body": row.body,
            "created_at": _when(row.created_at),
            "hidden_at": _when(row.hidden_at),
            "photos": _photos(row.photos),
        }
        for row in rows
    ]


def _photos(photos: Any) -> list[dict[str, str]]:
    """A message's or review's photos: the large picture's and the thumbnail's addresses."""
    return [
        {
            "url": media_url(photo.large_key, external=True),
            "thumbnail_url": media_url(photo.small_key, external=True),
        }
        for photo in photos
    ]


def _reviews(user_id: int) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        sa.select(Review)
        .where(Review.customer_id == user_id)
        .options(selectinload(Review.photos))
        .order_by(Review.id)
    )
    return [
        {
            "order_line_id": row.order_line_id,
            "product_id": row.product_id,
            "stars": row.stars,
            "body": row.body,
            "created_at": _when(row.created_at),
            "edited_at": _when(row.edited_at),
            "seller_answer": row.seller_answer,
            "hidden_at": _when(row.hidden_at),
            "photos": _photos(row.photos),
        }
        for row in rows
    ]


def _review_reports(user_id: int) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        sa.select(ReviewReport).where(ReviewReport.user_id == user_id).order_by(ReviewReport.id)
    )
    return [
        {"review_id": row.review_id, "reason": row.reason, "created_at": _when(row.created_at)}
        for row in rows
    ]


def _shop(user_id: int) -> dict[str, Any] | None:
    seller = db.session.scalar(sa.select(Seller).where(Seller.user_id == user_id))
    if seller is None:
        return None
    listings = db.session.scalars(
        sa.select(Product).where(Product.seller_id == seller.id).order_by(Product.id)
    )
    return {
        "id": seller.id,
        "display_name": seller.display_name,
        "slug": seller.slug,
        "bio": seller.bio,
        "phone": seller.phone,
        "county": seller.county.slug,
        "sector": seller.sector.slug,
        "registration_code": seller.registration_code,
        "training_completed_on": _when(seller.training_completed_on),
        "training_provider": seller.training_provider,
        "permit_number": seller.permit_number,
        "sheba": seller.sheba,
        "status": _enum(seller.status),
        "status_reason": seller.status_reason,
        "created_at": _when(seller.created_at),
        "approved_at": _when(seller.approved_at),
        "listings": [
            {
                "id": product.id,
                "title": product.title,
                "description": product.description,
                "price_amount": product.price_amount,
                "stock": product.stock,
                "status": _enum(product.status),
                "created_at": _when(product.created_at),
            }
            for product in listings
        ],
    }
