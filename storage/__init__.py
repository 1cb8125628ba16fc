"""Persistence: typed models, repositories that never commit, migrations and the search index.

Every module that defines tables is imported here, models first, so that every table is on ``Base.metadata``
(Alembic, the migration test) whichever storage module a program happens to import first."""

import storage.models  # noqa: I001  (first: the others' tables build on its Base)
import storage.run_checkpoints
import storage.documents
import storage.access_audit
import storage.job_locks
import storage.acl
import storage.permission_passes
import storage.person_links
import storage.points
import storage.usage_limits  # noqa: F401
