"""The PostgreSQL backend's own tests exist only when the suite runs on PostgreSQL: on SQLite
the module is not collected (rather than collected and skipped), like the ``postgres``
parameter of the shared backend tests."""

from tests.search.support import ON_POSTGRES

collect_ignore = [] if ON_POSTGRES else ["test_pg_backend.py"]
