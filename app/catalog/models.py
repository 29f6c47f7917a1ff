from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.catalog import pricing
from app.core.dbtypes import UTCDateTime, enum_column
from app.core.extensions import Model
from app.core.timeutil import utcnow
from app.reference.models import County, Sector


class SellerStatus(enum.StrEnum):
    APPLIED = "applied"  # waiting in the staff queue
    APPROVED = "approved"  # trading; products can be public
    REJECTED = "rejected"  # application refused, with a reason
    SUSPENDED = "suspended"  # stopped by staff; products hidden at once


class ProductStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    HIDDEN_BY_STAFF = "hidden_by_staff"


class PhotoStatus(enum.StrEnum):
    """Where a listing photo stands: its variants exist and it is shown (``ready``), the job
    worker still has to make them (``processing``), or the picture could not be decoded
    (``failed``, the reason in ``ProductImage.failure``). Only ready photos are public."""

    READY = "ready"
    PROCESSING = "processing"
    FAILED = "failed"


class Seller(Model):
    __tablename__ = "seller"
    __table_args__ = (sa.Index("ix_seller_county_status", "county_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), unique=True)
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(120))
    bio: Mapped[str] = mapped_column(sa.Text, default="")
    logo_key: Mapped[str | None] = mapped_column(sa.String(200))
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    county_id: Mapped[int] = mapped_column(sa.ForeignKey("county.id"))
    sector_id: Mapped[int] = mapped_column(sa.ForeignKey("sector.id"), index=True)
    # Programme fields: the ministry's home-business system keys sellers by this code.
    registration_code: Mapped[str | None] = mapped_column(sa.String(40), unique=True)
    training_completed_on: Mapped[date | None] = mapped_column(sa.Date)
    training_provider: Mapped[str | None] = mapped_column(sa.String(160))
    permit_number: Mapped[str | None] = mapped_column(sa.String(60))
    # The bank account payouts go to: an Iranian IBAN (Sheba), "IR" and 24 digits, checksum valid.
    sheba: Mapped[str | None] = mapped_column(sa.String(26))
    status: Mapped[SellerStatus] = mapped_column(
        enum_column(SellerStatus), default=SellerStatus.APPLIED, index=True
    )
    status_reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Vacation mode: away until this date (the day they are back), with a note for customers.
    away_until: Mapped[date | None] = mapped_column(sa.Date)
    # The training centre or NGO that assists this seller (its staff see the seller's figures).
    support_organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("support_organisation.id", ondelete="SET NULL"), index=True
    )
    away_note: Mapped[str | None] = mapped_column(sa.String(300))

    user: Mapped[User] = relationship()
    county: Mapped[County] = relationship()
    sector: Mapped[Sector] = relationship()
    status_changes: Mapped[list[SellerStatusChange]] = relationship(
        back_populates="seller", order_by="SellerStatusChange.created_at.desc()"
    )

    @property
    def is_approved(self) -> bool:
        return self.status == SellerStatus.APPROVED


class SupportOrganisation(Model):
    """A training centre or NGO that assists its own cohort of sellers; its staff accounts see
    those sellers only (:class:`StaffScope`)."""

    __tablename__ = "support_organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(160), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StaffScope(Model):
    """What a staff account may see, when less than the whole province: one county's sellers
    (a county officer) or one support organisation's (:mod:`app.catalog.scope`). A staff account
    without a row is province staff."""

    __tablename__ = "staff_scope"
    __table_args__ = (
        sa.CheckConstraint(
            "(county_id IS NULL) <> (organisation_id IS NULL)", name="one_of_county_organisation"
        ),
    )

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    county_id: Mapped[int | None] = mapped_column(sa.ForeignKey("county.id"))
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("support_organisation.id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ListingConsent(Model):
    """A seller's consent that a staff member (a county officer, a support organisation's or
    the province's staff) lists on their behalf: given by reading out a code texted to
    ``mobile`` (``method``), until the seller revokes it (``revoked_at``) or
    :data:`app.catalog.assisted.CONSENT_DAYS` pass."""

    __tablename__ = "listing_consent"

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[int] = mapped_column(
        sa.ForeignKey("seller.id", ondelete="CASCADE"), index=True
    )
    staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    method: Mapped[str] = mapped_column(sa.String(20))
    mobile: Mapped[str] = mapped_column(sa.String(20))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))

    staff: Mapped[User | None] = relationship(foreign_keys=[staff_id])


class SellerStatusChange(Model):
    """Audit row for every change of a seller's status: who, when, why."""

    __tablename__ = "seller_status_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[int] = mapped_column(sa.ForeignKey("seller.id"), index=True)
    from_status: Mapped[SellerStatus | None] = mapped_column(
        enum_column(SellerStatus, name="from_status")
    )
    to_status: Mapped[SellerStatus] = mapped_column(enum_column(SellerStatus, name="to_status"))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    seller: Mapped[Seller] = relationship(back_populates="status_changes")
    actor: Mapped[User | None] = relationship()


class Category(Model):
    __tablename__ = "category"
    __table_args__ = (
        sa.CheckConstraint(
            "commission_rate_bp >= 0 AND commission_rate_bp <= 10000", name="commission_rate_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("category.id"), index=True)
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    name_fa: Mapped[str] = mapped_column(sa.String(100))
    name_en: Mapped[str] = mapped_column(sa.String(100))
    position: Mapped[int] = mapped_column(default=0)
    # The market's commission on sales in this category, in basis points (1/100 of a percent);
    # None means the market default (setting COMMISSION_RATE_BP).
    commission_rate_bp: Mapped[int | None] = mapped_column()

    parent: Mapped[Category | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Category]] = relationship(
        back_populates="parent", order_by="Category.position"
    )

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_fa


class Product(Model):
    __tablename__ = "product"
    __table_args__ = (
        sa.CheckConstraint("price_amount >= 0", name="price_non_negative"),
        sa.CheckConstraint("stock >= 0", name="stock_non_negative"),
        sa.CheckConstraint("sale_price_amount > 0", name="sale_price_positive"),
        # Storefront listings: published products newest first, per category / seller.
        sa.Index("ix_product_status_created", "status", "created_at"),
        sa.Index("ix_product_category_status", "category_id", "status", "created_at"),
        sa.Index("ix_product_seller_status", "seller_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[int] = mapped_column(sa.ForeignKey("seller.id"))
    # The values before a change are loaded even when the row was expired (active history):
    # a change from or to published, or to another category, decides which cached pages
    # go stale (app.catalog.changes).
    category_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("category.id"), active_history=True
    )
    title: Mapped[str] = mapped_column(sa.String(200))
    # An optional English title: searchable (shoppers of the English interface), not shown.
    title_en: Mapped[str | None] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    price_amount: Mapped[int] = mapped_column(sa.BigInteger)
    # A sale: its price while ``[sale_starts_at, sale_ends_at)`` runs (whole market days; see
    # app.catalog.pricing). None: no sale.
    sale_price_amount: Mapped[int | None] = mapped_column(sa.BigInteger)
    sale_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sale_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    stock: Mapped[int] = mapped_column(default=0)
    status: Mapped[ProductStatus] = mapped_column(
        enum_column(ProductStatus), default=ProductStatus.DRAFT, active_history=True
    )
    featured: Mapped[bool] = mapped_column(default=False)
    # A product with options (size, colour...) is sold by its variants (:class:`ProductVariant`,
    # :mod:`app.catalog.variants`): then ``stock`` is the sum of its active variants' stock and
    # ``price_amount``/``sale_price_amount`` their lowest (the "from" price cards show, sort and
    # filter by), kept so by every write of a variant in the same transaction.
    has_variants: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    hidden_reason: Mapped[str | None] = mapped_column(sa.Text)
    # What the search index still owes: set in the same transaction as any change search shows.
    search_dirty: Mapped[bool] = mapped_column(default=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # "Listed with help": the staff member who last created or changed this listing on the
    # seller's behalf, with the seller's consent (app.catalog.assisted), and when; cleared when
    # the seller takes it over.
    assisted_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    assisted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    seller: Mapped[Seller] = relationship()
    category: Mapped[Category | None] = relationship()
    assisted_by: Mapped[User | None] = relationship(foreign_keys=[assisted_by_id])
    images: Mapped[list[ProductImage]] = relationship(
        back_populates="product",
        order_by="ProductImage.position",
        cascade="all, delete-orphan",
    )

    @property
    def ready_images(self) -> list[ProductImage]:
        """The photos the storefront shows (their variants exist), in their order."""
        return [image for image in self.images if image.status == PhotoStatus.READY]

    @property
    def cover(self) -> ProductImage | None:
        """The first ready photo (a photo still processing or failed is never the cover)."""
        return next((image for image in self.images if image.status == PhotoStatus.READY), None)

    @property
    def in_stock(self) -> bool:
        return self.stock > 0

    @property
    def on_sale(self) -> bool:
        """Whether it costs less than its list price now, by its sale or a campaign (the page
        strikes the list price through)."""
        return self.price_quote.amount < self.price_amount

    @property
    def price_quote(self) -> pricing.Quote:
        """Its price now and why: the lowest of its price, its running sale and the market
        campaigns its shop joined that cover its category (``app.catalog.pricing.quote``)."""
        return pricing.quote_of(self)

    @property
    def effective_price(self) -> int:
        """What one unit costs now (sale or campaign included)."""
        return self.price_quote.amount

    @property
    def campaign(self) -> pricing.Offer | None:
        """The campaign that gives its price now, if one does (its badge)."""
        return self.price_quote.campaign


class ProductOption(Model):
    """One of a product's options (at most three: "سایز", "رنگ"...) with its values in the
    order the product page offers them. A variant holds one value of each option."""

    __tablename__ = "product_option"
    __table_args__ = (
        sa.UniqueConstraint("product_id", "position", name="uq_product_option_position"),
        sa.UniqueConstraint("product_id", "name", name="uq_product_option_name"),
        sa.CheckConstraint("position >= 0 AND position < 3", name="position_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(
        sa.ForeignKey("product.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(sa.String(40))
    values: Mapped[list[str]] = mapped_column(sa.JSON, default=list)


class ProductVariant(Model):
    """One choice of a product with options (size M, colour blue): its own price, stock, SKU and
    photo. ``value1``..``value3`` hold its value of the product's options by position ("" where
    the product has fewer options), so one combination is one row. A variant taken off sale is
    kept inactive (orders and carts still name it) rather than deleted."""

    __tablename__ = "product_variant"
    __table_args__ = (
        sa.UniqueConstraint(
            "product_id", "value1", "value2", "value3", name="uq_product_variant_values"
        ),
        sa.CheckConstraint("price_amount > 0", name="price_positive"),
        sa.CheckConstraint("sale_price_amount > 0", name="sale_price_positive"),
        sa.CheckConstraint("stock >= 0", name="stock_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(
        sa.ForeignKey("product.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    value1: Mapped[str] = mapped_column(sa.String(40), default="")
    value2: Mapped[str] = mapped_column(sa.String(40), default="", server_default="")
    value3: Mapped[str] = mapped_column(sa.String(40), default="", server_default="")
    sku: Mapped[str | None] = mapped_column(sa.String(64))
    price_amount: Mapped[int] = mapped_column(sa.BigInteger)
    # Its price during the product's sale period (``Product.sale_starts_at``..``sale_ends_at``).
    sale_price_amount: Mapped[int | None] = mapped_column(sa.BigInteger)
    stock: Mapped[int] = mapped_column(default=0)
    image_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("product_image.id", ondelete="SET NULL")
    )
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    product: Mapped[Product] = relationship(lazy="raise_on_sql")

    @property
    def values(self) -> list[str]:
        """Its option values in the options' order (no empty places)."""
        return [v for v in (self.value1, self.value2, self.value3) if v]

    @property
    def in_stock(self) -> bool:
        return self.active and self.stock > 0


class ProductImage(Model):
    __tablename__ = "product_image"
    __table_args__ = (
        sa.CheckConstraint("position >= 0", name="position_non_negative"),
        # One photo per place in a listing: position 0 is the one cover.
        sa.UniqueConstraint("product_id", "position", name="uq_product_image_product_id_position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(
        sa.ForeignKey("product.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    # Key of the largest stored variant ("" until the variants exist); ``variants`` lists
    # ``[width, height, key]`` per size, narrowest first (empty until the photo is ready).
    storage_key: Mapped[str] = mapped_column(sa.String(200))
    variants: Mapped[list[list]] = mapped_column(sa.JSON, default=list)
    width: Mapped[int]
    height: Mapped[int]
    alt_text: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status: Mapped[PhotoStatus] = mapped_column(
        enum_column(PhotoStatus, name="photostatus"),
        default=PhotoStatus.READY,
        server_default=PhotoStatus.READY.value,
    )
    # The uploaded bytes (``originals/<sha256>.<ext>``) while the job worker still owes this
    # photo work: set at upload, cleared once the worker has removed the file. Indexed for the
    # sweep that finds photos whose task was lost.
    original_key: Mapped[str | None] = mapped_column(sa.String(200), index=True)
    # Why a failed photo failed: an image rejection code (``corrupt``...) or ``not_processed``.
    failure: Mapped[str | None] = mapped_column(sa.String(40))
    # Runs of the variant task that began on this photo (a photo that keeps killing its worker
    # ends as failed rather than being tried for ever).
    attempts: Mapped[int] = mapped_column(default=0, server_default=sa.text("0"))

    product: Mapped[Product] = relationship(back_populates="images")


class StagedPhoto(Model):
    """A photo uploaded on the listing form before the listing is saved: its original is stored
    (checked from its header, as a listing photo's upload is), and the save that creates or
    edits the listing turns it into a processing :class:`ProductImage` and deletes this row in
    one transaction. The form carries the row's random ``token``; rows that no save took are
    swept with their files after :data:`app.catalog.photos.STAGED_FOR` hours."""

    __tablename__ = "staged_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    seller_id: Mapped[int] = mapped_column(
        sa.ForeignKey("seller.id", ondelete="CASCADE"), index=True
    )
    original_key: Mapped[str] = mapped_column(sa.String(200), index=True)
    width: Mapped[int]
    height: Mapped[int]
    # The file's name as the seller's device gave it (shown on a form sent back with an error).
    filename: Mapped[str] = mapped_column(sa.String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class Favourite(Model):
    """A product a customer keeps among their favourites (guests keep theirs in the session,
    :mod:`app.catalog.favourites`). Its seller sees how many people keep each listing."""

    __tablename__ = "favourite"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    product_id: Mapped[int] = mapped_column(
        sa.ForeignKey("product.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StockAlert(Model):
    """A signed-in customer asked to be told when a sold-out product is back
    (:mod:`app.catalog.stock_alerts`). Once told, ``notified_at`` is set and the row stays as a
    record; one waiting alert per user and product, or per user and variant of a product with
    options (partial unique indexes)."""

    __tablename__ = "stock_alert"
    __table_args__ = (
        sa.Index(
            "uq_stock_alert_waiting",
            "user_id",
            "product_id",
            unique=True,
            postgresql_where=sa.text("notified_at IS NULL AND variant_id IS NULL"),
            sqlite_where=sa.text("notified_at IS NULL AND variant_id IS NULL"),
        ),
        sa.Index(
            "uq_stock_alert_waiting_variant",
            "user_id",
            "variant_id",
            unique=True,
            postgresql_where=sa.text("notified_at IS NULL AND variant_id IS NOT NULL"),
            sqlite_where=sa.text("notified_at IS NULL AND variant_id IS NOT NULL"),
        ),
        sa.Index("ix_stock_alert_product_waiting", "product_id", "notified_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id", ondelete="CASCADE"))
    variant_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("product_variant.id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    user: Mapped[User] = relationship(lazy="raise_on_sql")
    product: Mapped[Product] = relationship(lazy="raise_on_sql")


class FollowedShop(Model):
    """A shop a customer follows: its newest listings show on their "followed shops" page."""

    __tablename__ = "followed_shop"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    seller_id: Mapped[int] = mapped_column(
        sa.ForeignKey("seller.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CatalogVersion(Model):
    """One row whose number grows with every change a storefront page shows.

    Cached pages are keyed by it, so a change of a seller, a category or the shipping rules
    makes every cached page stale in the same transaction that made the change; a listing's own
    changes bump only the scopes it shows on (:class:`PageVersion`).
    """

    __tablename__ = "catalog_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(sa.BigInteger, default=1)


class PageVersion(Model):
    """How often the pages of one scope changed, beside the whole catalogue's version.

    A scope names the storefront pages a change shows on: ``product:<id>`` (its page),
    ``category:<slug>``, ``seller:<slug>``, ``county:<slug>`` (their lists) and ``home``. A
    cached page is keyed by the catalogue version and its own scope's version, so a price change
    of one listing leaves the pages of every other category, shop and product cached. A scope
    with no row has version 0.
    """

    __tablename__ = "page_version"

    scope: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    version: Mapped[int] = mapped_column(sa.BigInteger, default=1)


class PendingImport(Model):
    """A CSV file a seller previewed in the seller area, kept until they confirm it.

    Kept in the database rather than on one machine's disk, so the confirmation may reach any
    web machine. Only a hash of the token is stored: the token itself travels in the page.
    """

    __tablename__ = "pending_import"
    __table_args__ = (sa.Index("ix_pending_import_created", "created_at"),)

    token_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    seller_id: Mapped[int] = mapped_column(sa.ForeignKey("seller.id", ondelete="CASCADE"))
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SlugHistory(Model):
    """An address a seller's shop or a category had before: its old slug, so links to it still
    lead there (a permanent redirect to the current address). ``kind`` is ``seller`` or
    ``category``; a slug another row holds now answers as that row's page, never a redirect."""

    __tablename__ = "slug_history"
    __table_args__ = (sa.UniqueConstraint("kind", "old_slug", name="uq_slug_history_kind_old"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    old_slug: Mapped[str] = mapped_column(sa.String(80))
    object_id: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SearchSynonym(Model):
    """Two words search treats as one («ظروف» and «ظرف», «لباس» and «پیراهن»), both ways;
    edited by staff and applied at query time, so a change needs no reindex. ``word`` and
    ``other`` are stored normalised (:func:`app.search.normalize.fold`), ``word < other``."""

    __tablename__ = "search_synonym"
    __table_args__ = (sa.UniqueConstraint("word", "other", name="uq_search_synonym_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    word: Mapped[str] = mapped_column(sa.String(60))
    other: Mapped[str] = mapped_column(sa.String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Campaign(Model):
    """A market campaign across shops: ``percent`` off (1-90; at most ``cap_amount`` rials a
    unit when set) of the listings of the shops that joined it (``CampaignShop``), in its
    categories and those below them (``CampaignCategory``; none: every category), on whole
    market days ``[starts_at, ends_at)``. ``payer`` is who gives the discount: ``market`` (the
    seller is credited the difference) or ``seller``. See ``app.catalog.campaigns``."""

    __tablename__ = "campaign"
    __table_args__ = (
        sa.CheckConstraint("percent >= 1 AND percent <= 90", name="percent_range"),
        sa.CheckConstraint("cap_amount > 0", name="cap_positive"),
        sa.CheckConstraint("payer IN ('market', 'seller')", name="payer_known"),
        sa.Index("ix_campaign_period", "ends_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name_fa: Mapped[str] = mapped_column(sa.String(100))
    name_en: Mapped[str] = mapped_column(sa.String(100))
    percent: Mapped[int]
    cap_amount: Mapped[int | None] = mapped_column(sa.BigInteger)
    payer: Mapped[str] = mapped_column(sa.String(10))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # ended early by staff
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_fa


class CampaignCategory(Model):
    """A category a campaign covers (with every category below it)."""

    __tablename__ = "campaign_category"

    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id"), primary_key=True)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("category.id"), primary_key=True)


class CampaignShop(Model):
    """A shop that joined a campaign (leaving deletes the row)."""

    __tablename__ = "campaign_shop"

    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id"), primary_key=True)
    seller_id: Mapped[int] = mapped_column(sa.ForeignKey("seller.id"), primary_key=True, index=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
