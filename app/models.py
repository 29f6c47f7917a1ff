"""Every model, imported in dependency order so metadata and Alembic see all tables."""

from app.accounts.models import Role, User
from app.catalog.models import (
    CatalogVersion,
    Category,
    Product,
    ProductImage,
    ProductStatus,
    Seller,
    SellerStatus,
    SellerStatusChange,
)
from app.orders.models import CartLine, Order, OrderLine, OrderStatus, OrderStatusChange
from app.payments.models import Payment, PaymentEvent, PaymentStatus, Provider
from app.program.models import AuditEvent, County, Province, Quota, Sector

__all__ = [
    "AuditEvent",
    "CartLine",
    "CatalogVersion",
    "Category",
    "County",
    "Order",
    "OrderLine",
    "OrderStatus",
    "OrderStatusChange",
    "Payment",
    "PaymentEvent",
    "PaymentStatus",
    "Product",
    "ProductImage",
    "ProductStatus",
    "Province",
    "Provider",
    "Quota",
    "Role",
    "Sector",
    "Seller",
    "SellerStatus",
    "SellerStatusChange",
    "User",
]
