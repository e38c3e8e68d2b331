"""Operations: structured logs, Prometheus metrics, health and readiness."""
