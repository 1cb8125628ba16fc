"""Atlassian Cloud: OAuth 2.0 (3LO) and the sites a consent covers."""
