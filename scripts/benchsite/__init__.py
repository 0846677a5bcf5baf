"""The application as served in production, plus the load test's floor endpoint."""
