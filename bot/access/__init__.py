"""Per-person access to a datastore's documents (issue #12): ACLs, principals and the search filter."""
