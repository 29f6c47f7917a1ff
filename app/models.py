"""Every model, imported in dependency order so metadata and Alembic see all tables."""

from app.accounts.models import LoginSession, LoginThrottle, Role, User
from app.audit.models import AuditEvent
from app.catalog.models import (
    CatalogVersion,
    Category,
    Favourite,
    FollowedShop,
    PendingImport,
    Product,
    ProductImage,
    ProductOption,
    ProductStatus,
    ProductVariant,
    Seller,
    SellerStatus,
    SellerStatusChange,
    SlugHistory,
    StaffScope,
    SupportOrganisation,
)
from app.catalog.ratings import ProductRating, SellerRating
from app.conversations.models import Conversation, ConversationMessage, MessagePhoto
from app.disputes.models import OrderProblem, ProblemPhoto
from app.jobs.models import JobFailure
from app.notifications.models import Notice, NotificationSetting, OutgoingMail, OutgoingSms
from app.orders.models import (
    CartLine,
    Order,
    OrderLine,
    OrderStatus,
    OrderStatusChange,
    SavedAddress,
)
from app.pages.models import SitePage
from app.payments.models import Payment, PaymentEvent, PaymentStatus, Provider
from app.payouts.models import LedgerEntry, SettlementBatch, SettlementLine
from app.program.impact_models import Beneficiary, Loan, SalesFlag
from app.program.models import PriceHint, Quota
from app.program.sales_models import (
    OfflineSale,
    OfflineSaleLine,
    SalesDaily,
    SalesDailyProduct,
    SalesOrder,
    SalesPeriod,
    SalesPeriodBuyer,
)
from app.reference.models import County, Province, Sector
from app.reviews.models import Review, ReviewPhoto, ReviewReport
from app.shipping.models import ShippingMethod

__all__ = [
    "AuditEvent",
    "Beneficiary",
    "Loan",
    "SalesFlag",
    "CartLine",
    "CatalogVersion",
    "Category",
    "County",
    "Favourite",
    "FollowedShop",
    "LedgerEntry",
    "JobFailure",
    "LoginSession",
    "LoginThrottle",
    "OfflineSale",
    "OfflineSaleLine",
    "Order",
    "OrderLine",
    "OrderProblem",
    "Conversation",
    "ConversationMessage",
    "MessagePhoto",
    "OrderStatus",
    "OrderStatusChange",
    "SavedAddress",
    "OutgoingMail",
    "OutgoingSms",
    "Notice",
    "NotificationSetting",
    "Payment",
    "PaymentEvent",
    "PaymentStatus",
    "PendingImport",
    "ProblemPhoto",
    "ProductRating",
    "Review",
    "ReviewPhoto",
    "ReviewReport",
    "SellerRating",
    "Product",
    "ProductOption",
    "ProductVariant",
    "StaffScope",
    "SupportOrganisation",
    "ProductImage",
    "ProductStatus",
    "Province",
    "Provider",
    "PriceHint",
    "Quota",
    "Role",
    "SalesDaily",
    "SalesDailyProduct",
    "SalesOrder",
    "SalesPeriod",
    "SalesPeriodBuyer",
    "Sector",
    "Seller",
    "SitePage",
    "SettlementBatch",
    "SettlementLine",
    "SellerStatus",
    "SellerStatusChange",
    "SlugHistory",
    "ShippingMethod",
    "User",
]
