"""Confluence Cloud: the REST client and the storage-format converter."""
