from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from liveshop.addresses.models import Address
from liveshop.addresses.validation import address_lines
from liveshop.core.types import Line


class AddressIn(BaseModel):
    """A delivery address. Which fields a country needs, and its postcode format, come from
    Google's i18n address data: a missing or invalid one is a 422 naming the field."""

    model_config = ConfigDict(extra="forbid")
    country_code: Line = Field(min_length=2, max_length=2, examples=["GB"])
    full_name: Line = Field(min_length=1, max_length=120)
    company_name: Line = Field(default="", max_length=120)
    phone: Line = Field(min_length=1, max_length=32, examples=["+44 7911 123456"])
    street_address: Line = Field(min_length=1, max_length=300)
    city: Line = Field(default="", max_length=120)
    city_area: Line = Field(default="", max_length=120)
    country_area: Line = Field(default="", max_length=120, description="state, province, county")
    postal_code: Line = Field(default="", max_length=20)
    sorting_code: Line = Field(default="", max_length=20)
    make_default: bool = False

    def fields(self) -> dict[str, str | None]:
        return self.model_dump(exclude={"make_default"})


class AddressOut(BaseModel):
    id: int
    country_code: str
    full_name: str
    company_name: str
    phone: str
    street_address: str
    city: str
    city_area: str
    country_area: str
    postal_code: str
    sorting_code: str
    is_default: bool
    lines: list[str] = Field(description="as the country prints it on a parcel")

    @classmethod
    def of(cls, a: Address) -> AddressOut:
        fields = {
            "country_code": a.country_code,
            "full_name": a.full_name,
            "company_name": a.company_name,
            "phone": a.phone,
            "street_address": a.street_address,
            "city": a.city,
            "city_area": a.city_area,
            "country_area": a.country_area,
            "postal_code": a.postal_code,
            "sorting_code": a.sorting_code,
        }
        return cls(id=a.id, is_default=a.is_default, lines=address_lines(fields), **fields)
