"""Aggregates over the domains: visit coverage and its map (later: KPIs)."""
