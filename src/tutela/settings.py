"""The one settings class. Every value can be set by a `TUTELA_*` environment variable."""

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "Webhook", "get_settings"]


class Webhook(BaseModel):
    """Where a recipient of the policy is told of rectifications, erasures and restrictions
    (Art. 19), and the secret its notices are signed with (HMAC-SHA256)."""

    url: str
    secret: SecretStr


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TUTELA_", extra="ignore")

    database_url: str = Field(
        "sqlite:///tutela.db",
        description="SQLAlchemy URL. SQLite (WAL) by default; PostgreSQL as "
        "postgresql+psycopg://user@host:5432/db.",
    )
    policy_file: Path | None = Field(
        None, description="Policy YAML file; the bundled default policy when unset."
    )
    key_file: Path = Field(
        Path("tutela.key"),
        description="Master key file created by `tutela init` (mode 0600). Ignored when "
        "TUTELA_MASTER_KEY is set.",
    )
    master_key: SecretStr | None = Field(
        None,
        description="Master key (base64, 32 bytes) given by the environment instead of a file.",
    )
    console_idle_minutes: int = Field(
        30, ge=1, le=1440, description="A console session unused this long is signed out."
    )
    console_session_hours: int = Field(
        12,
        ge=1,
        le=720,
        description="A console session ends this long after signing in, however busy.",
    )
    forecast_cache_seconds: int = Field(
        300,
        ge=0,
        le=86400,
        description="How long the console's dashboard keeps its retention forecast counted.",
    )
    host: str = Field("127.0.0.1", description="Address `tutela serve` listens on.")
    max_body_bytes: int = Field(
        1_048_576, ge=1024, description="Largest request body the API reads (413 beyond)."
    )
    trusted_proxies: list[str] = Field(
        [],
        description="Addresses or networks (CIDR) of the reverse proxies whose "
        "X-Forwarded-For and X-Forwarded-Proto the API believes; none by default.",
    )
    port: int = Field(8000, description="Port `tutela serve` listens on.")
    smtp_host: str = Field("127.0.0.1", description="SMTP server the outbox delivers through.")
    smtp_port: int = Field(25, description="Its port.")
    smtp_sender: str | None = Field(
        None, description="From address of e-mails (default: the policy's controller e-mail)."
    )
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS.")
    smtp_user: str | None = Field(None, description="SMTP login, when the server asks for one.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password.")
    opengdpr_key_file: Path = Field(
        Path("opengdpr.key"),
        description="RSA private key (PEM) that signs OpenGDPR responses and callbacks. "
        "`tutela init` creates a self-signed test pair when this and the certificate are "
        "left at their defaults and missing; production needs a CA-issued certificate.",
    )
    opengdpr_certificate_file: Path = Field(
        Path("opengdpr.pem"), description="The X.509 certificate (PEM) of that key."
    )
    opengdpr_domain: str | None = Field(
        None,
        description="The domain OpenGDPR requests are received on, sent as "
        "`X-OpenGDPR-Processor-Domain` (default: the certificate's common name).",
    )
    opengdpr_certificate_url: str | None = Field(
        None,
        description="Public URL of the certificate given by `GET /v1/discovery` (default: "
        "`/v1/processor_certificate.pem` on the server that answers).",
    )
    opengdpr_callback_hosts: list[str] = Field(
        [],
        description="Hosts OpenGDPR status callbacks may be sent to, as JSON; empty: any "
        "host of an http(s) URL.",
    )
    webhooks: dict[str, Webhook] = Field(
        {},
        description="Art. 19 webhooks by recipient or subprocessor id, as JSON: "
        '{"partners": {"url": "https://…", "secret": "…"}}.',
    )
    checkpoint_dir: Path = Field(
        Path("checkpoints"),
        description="Where `tutela audit checkpoint` and the worker write signed checkpoints "
        "of the audit trail's head: put it on a volume that database writers cannot reach.",
    )
    checkpoint_email: bool = Field(
        True, description="Also e-mail each checkpoint the worker takes to the policy's DPO."
    )
    rotation_batch: int = Field(
        5_000, ge=1, description="Data keys re-wrapped per transaction of a key rotation."
    )
    retention_batch: int = Field(
        2_000,
        ge=1,
        description="Subjects per transaction of a retention run: other writers, audited "
        "reads among them, pass between two.",
    )
    import_batch: int = Field(
        1_000,
        ge=1,
        description="Records per transaction of an import: other writers, audited reads "
        "among them, pass between two.",
    )
    import_workers: int | None = Field(
        None,
        ge=0,
        description="Processes that validate and encrypt a large import while the main one "
        "writes. Unset: one per core (at most 4) for files over 4 MiB; 0: none.",
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()
