"""Slack's 3-second limits as the fakes apply them, in one place.

Slack gives an interaction 3 s for its HTTP answer and a ``trigger_id`` 3 s of life.  The fakes apply
``SLACK_SECONDS`` to both (:class:`~demo.fakes.slack_requests.SlackRequestSender`'s ``ack_timeout``,
:class:`~demo.fakes.slack_api.FakeSlack`'s ``trigger_ttl``) unless given another value.  A test suite running
many bots at once on a small machine may lengthen it for its whole process (``tests/conftest.py`` does): a
loaded machine then no longer fails a test that is about something else, and what the 3 s guards — slow work
after the answer, never before it — is checked by tests whose slow calls outlast ``SLACK_SECONDS`` whatever
its value, and measured by the benchmark (``/datastore help`` p99 in milliseconds).
"""

from __future__ import annotations

SLACK_SECONDS = 3.0
