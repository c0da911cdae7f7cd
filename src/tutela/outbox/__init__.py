"""Messages to people and recipients, delivered with retries (e-mail over SMTP)."""
