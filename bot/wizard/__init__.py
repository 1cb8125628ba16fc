"""The /datastore create wizard's core: input rules, state machine and persistence (no Slack here)."""
