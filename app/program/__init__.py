"""The programme: provinces, counties, sectors, quotas, audit trail and market-linkage figures."""
