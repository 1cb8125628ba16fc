"""A strict fake of Atlassian OAuth 2.0 (3LO) and Confluence Cloud REST (v2 + v1) over real sockets.

Typical use::

    with FakeAtlassian(SiteSpec(spaces=2, pages_per_space=600)) as fake:
        tokens = fake.issue_token()
        httpx.get(f"{fake.wiki_url()}/api/v2/spaces", headers={"Authorization": f"Bearer ..."})

Permissions (answers are the caller's view; the default world's connecting user sees everything)::

    fake.site.people.add_group("hr", [fake.site.users[1].account_id])
    fake.site.restrict_page(page_id, groups=["hr"])            # hides the page and its descendants
    grace = fake.complete_oauth(fake.site.users[1].account_id)  # Grace's own tokens, via /authorize
    fake.log.points(principal=grace["access_token"])           # Atlassian points she spent
"""

from .clock import FakeClock
from .common import HostedSite
from .faults import FaultKind, FaultRule, RequestLog, RequestRecord
from .oauth import SESSION_COOKIE, Consent, OAuthApp
from .people import AccountStatus, Directory, EmailVisibility, Group, User
from .permissions import Permissions, SpaceGrant, Viewer
from .server import DEFAULT_SCOPES, PERMISSION_SCOPES, FakeAtlassian, SiteConfig
from .site import Content, Site, SiteSpec, Space
from .storage_xhtml import BodyGenerator, PageHints

__all__ = [
    "DEFAULT_SCOPES",
    "PERMISSION_SCOPES",
    "SESSION_COOKIE",
    "AccountStatus",
    "BodyGenerator",
    "Consent",
    "Content",
    "Directory",
    "EmailVisibility",
    "FakeAtlassian",
    "FakeClock",
    "FaultKind",
    "FaultRule",
    "Group",
    "HostedSite",
    "OAuthApp",
    "PageHints",
    "Permissions",
    "RequestLog",
    "RequestRecord",
    "Site",
    "SiteConfig",
    "SiteSpec",
    "Space",
    "SpaceGrant",
    "User",
    "Viewer",
]
