"""Syncing Confluence into the datastore: chunking (and, later, the sync engine)."""
