"""Operations: backups and restores, Prometheus metrics, structured request logs. No tables of its own."""
