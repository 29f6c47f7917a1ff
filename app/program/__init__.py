"""The programme: quotas, sales summaries and reports, product views, county market-linkage figures."""
