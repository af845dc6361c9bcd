"""Zoho data centers: accounts (OAuth) host and API hosts per region.

The token response's ``api_domain`` wins over the table for API calls; every host can be
overridden (that is how tests and the demo point at the simulators).
"""

from __future__ import annotations

from typing import Literal

import msgspec

Region = Literal["US", "EU", "IN", "AU", "JP", "CN", "UK", "CA", "SA"]


class DataCenter(msgspec.Struct, frozen=True):
    region: str
    accounts: str
    api: str  # CRM and other "zohoapis" APIs
    projects: str
    workdrive: str


def _dc(region: str, zoho_domain: str, api_tld: str) -> DataCenter:
    return DataCenter(region, f"https://accounts.{zoho_domain}", f"https://www.zohoapis.{api_tld}",
                      f"https://projectsapi.{zoho_domain}", f"https://workdrive.{zoho_domain}")


DATA_CENTERS: dict[str, DataCenter] = {
    dc.region: dc for dc in (
        _dc("US", "zoho.com", "com"),
        _dc("EU", "zoho.eu", "eu"),
        _dc("IN", "zoho.in", "in"),
        _dc("AU", "zoho.com.au", "com.au"),
        _dc("JP", "zoho.jp", "jp"),
        _dc("CN", "zoho.com.cn", "com.cn"),
        _dc("UK", "zoho.uk", "uk"),
        _dc("CA", "zohocloud.ca", "ca"),
        _dc("SA", "zoho.sa", "sa"),
    )
}


def data_center(region: str) -> DataCenter:
    try:
        return DATA_CENTERS[region.upper()]
    except KeyError:
        raise ValueError(f"unknown Zoho data center {region!r}; known: "
                         f"{', '.join(DATA_CENTERS)}") from None
