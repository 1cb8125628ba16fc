"""Using datastores once they exist: find them, describe them, search them (no Slack here)."""
