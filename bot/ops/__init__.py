"""Operating the bot: /healthz and Prometheus /metrics (`http`, `metrics`), and log format (`logs`)."""
