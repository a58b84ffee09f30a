"""Named queries, one module per page: each function returns what its page shows, nothing more."""
