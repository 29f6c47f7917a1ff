"""Provinces, counties and sectors: the reference data every other package reads."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.extensions import Model


class Province(Model):
    __tablename__ = "province"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(60), unique=True)
    name_fa: Mapped[str] = mapped_column(sa.String(100))
    name_en: Mapped[str] = mapped_column(sa.String(100))

    counties: Mapped[list[County]] = relationship(
        back_populates="province", order_by="County.name_fa"
    )

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_fa


class County(Model):
    __tablename__ = "county"

    id: Mapped[int] = mapped_column(primary_key=True)
    province_id: Mapped[int] = mapped_column(sa.ForeignKey("province.id"), index=True)
    slug: Mapped[str] = mapped_column(sa.String(60), unique=True)
    name_fa: Mapped[str] = mapped_column(sa.String(100))
    name_en: Mapped[str] = mapped_column(sa.String(100))

    province: Mapped[Province] = relationship(back_populates="counties")

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_fa


class Sector(Model):
    """A programme sector: handicrafts, tourism, industry, services, food, agriculture."""

    __tablename__ = "sector"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(60), unique=True)
    name_fa: Mapped[str] = mapped_column(sa.String(100))
    name_en: Mapped[str] = mapped_column(sa.String(100))

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_fa
