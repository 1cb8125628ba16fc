"""A strict fake of Atlassian OAuth 2.0 (3LO) and Confluence Cloud REST (v2 + v1) over real sockets.

Typical use::

    with FakeAtlassian(SiteSpec(spaces=2, pages_per_space=600)) as fake:
        tokens = fake.issue_token()
        httpx.get(f"{fake.wiki_url()}/api/v2/spaces", headers={"Authorization": f"Bearer ..."})
"""

from .clock import FakeClock
from .common import HostedSite
from .faults import FaultKind, FaultRule, RequestLog, RequestRecord
from .oauth import Consent, OAuthApp
from .server import DEFAULT_SCOPES, FakeAtlassian, SiteConfig
from .site import Content, Site, SiteSpec, Space, User
from .storage_xhtml import BodyGenerator, PageHints

__all__ = [
    "DEFAULT_SCOPES",
    "BodyGenerator",
    "Consent",
    "Content",
    "FakeAtlassian",
    "FakeClock",
    "FaultKind",
    "FaultRule",
    "HostedSite",
    "OAuthApp",
    "PageHints",
    "RequestLog",
    "RequestRecord",
    "Site",
    "SiteConfig",
    "SiteSpec",
    "Space",
    "User",
]
