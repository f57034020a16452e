"""The one settings class of Smart-0DTE.

Everything configurable comes from environment variables prefixed ``SMART0DTE_`` (or an optional
``.env`` in the working directory), read once by :func:`get_settings`. Nested groups owned by one
engine part (risk limits, tax choices, fill model) are pydantic models in that part's ``config``
module and are set with a double underscore: ``SMART0DTE_RISK__MAX_CONTRACTS_PER_ORDER=20``.

Secrets are ``SecretStr``: their ``repr`` and ``str`` are masked, so a settings object can be
logged or shown without leaking them. Invalid settings fail at start with one line naming the
variable (:func:`load_settings`).
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from engine.backtest.config import BacktestConfig
from engine.execution.config import FillConfig, RiskConfig
from engine.tax.config import TaxConfig

ENV_PREFIX = "SMART0DTE_"


class SettingsError(ValueError):
    """Raised with one human line naming the offending variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        env_nested_delimiter="__",
        extra="ignore",
        validate_default=True,
    )

    # --- state -----------------------------------------------------------------------------
    home: Path = Field(default_factory=lambda: Path.home() / ".smart0dte",
                       description="State directory: SQLite files, Parquet bars, reports, logs")
    database_url: str | None = Field(None, description="SQLAlchemy URL; unset = SQLite files under HOME")
    database_schema_prefix: str = Field("", pattern=r"^[a-z0-9_]*$",
                                        description="PostgreSQL only: prefix of every schema (test isolation)")
    redis_url: str | None = Field(None, description="Redis URL for the quote cache and events; unset = in-process")
    bar_retention_days: int = Field(400, ge=1, description="Parquet bar partitions older than this are pruned")

    # --- market data -----------------------------------------------------------------------
    feed: Literal["sim", "replay", "polygon"] = "sim"
    sim_start: datetime | None = Field(None, description="ISO 8601 with offset: where simulated time starts")
    sim_speed: float = Field(1.0, gt=0, le=100_000, description="Simulated seconds per wall second")
    sim_seed: int = Field(7, description="Seed of the simulated market")
    replay_path: Path | None = Field(None, description="File or folder of recorded bars/quotes for the replay feed")
    replay_speed: float = Field(60.0, gt=0)
    polygon_api_key: SecretStr | None = None
    polygon_base_url: str = "https://api.massive.com"
    polygon_ws_url: str | None = Field(None, description="WebSocket base, e.g. wss://socket.massive.com; unset = client default")
    polygon_record: bool = Field(False, description="Record the raw WebSocket stream under HOME/recordings for replay")
    stale_quote_seconds: float = Field(10.0, gt=0, description="A quote older than this is stale")
    risk_free_rate: float = Field(0.043, ge=-0.05, le=0.25)
    product_hours: dict[str, dict[str, str]] = Field(
        default_factory=dict, description='JSON per-symbol overrides of engine/market/product_hours.csv, '
        'e.g. {"SPY": {"option_close": "16:00"}}')
    sim_correlation: float = Field(0.87, ge=0.0, le=0.99, description="Correlation of simulated SPY/QQQ/IWM returns")

    # --- brokers and trading mode ----------------------------------------------------------
    live_trading: Literal["disarmed", "armed"] = "disarmed"
    live_broker: Literal["none", "ib"] = "none"
    ib_host: str = "127.0.0.1"
    ib_port_paper: int = Field(4002, ge=1, le=65535)
    ib_port_live: int = Field(4001, ge=1, le=65535)
    ib_client_id: int = Field(17, ge=0)
    ib_account: str | None = None
    ticket_ttl_seconds: int = Field(120, ge=5, le=3600)

    # --- language model --------------------------------------------------------------------
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    chat_retention_days: int = Field(90, ge=1)

    # --- people and surfaces ---------------------------------------------------------------
    demo_mode: bool = Field(False, description="Allows the demo account; never in production")
    users: dict[str, str] = Field(default_factory=dict,
                                  description='JSON {"name": "<argon2 hash>"} of chat UI users')
    auth_secret: SecretStr | None = Field(None, description="Signs UI sessions (CHAINLIT_AUTH_SECRET)")
    ui_host: str = "127.0.0.1"
    ui_port: int = Field(8000, ge=1, le=65535)
    api_rate_limit_per_minute: int = Field(120, ge=1)
    telegram_bot_token: SecretStr | None = None
    telegram_base_url: str | None = Field(None, description="Bot API base; unset = api.telegram.org")
    telegram_allowed_users: list[int] = Field(default_factory=list)
    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_url: str | None = Field(None, description="Web API base; unset = slack.com/api/")
    slack_allowed_users: list[str] = Field(default_factory=list)

    # --- parts' own groups -----------------------------------------------------------------
    risk: RiskConfig = Field(default_factory=RiskConfig)
    fills: FillConfig = Field(default_factory=FillConfig)
    tax: TaxConfig = Field(default_factory=TaxConfig)
    backtest: BacktestConfig = Field(default_factory=BacktestConfig)

    @field_validator("sim_start")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError("needs a UTC offset, e.g. 2026-11-20T10:30:00-05:00")
        return v

    @field_validator("home")
    @classmethod
    def _expand(cls, v: Path) -> Path:
        return v.expanduser()

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.feed == "polygon" and self.polygon_api_key is None:
            raise ValueError("SMART0DTE_FEED=polygon needs SMART0DTE_POLYGON_API_KEY")
        if self.feed == "replay" and self.replay_path is None:
            raise ValueError("SMART0DTE_FEED=replay needs SMART0DTE_REPLAY_PATH")
        return self

    # --- derived ---------------------------------------------------------------------------
    @property
    def live_armed(self) -> bool:
        return self.live_trading == "armed"

    @property
    def llm_configured(self) -> bool:
        return self.openai_api_key is not None or self.openai_base_url is not None

    def path(self, *parts: str) -> Path:
        """A path under HOME, its parent created."""
        p = self.home.joinpath(*parts)
        p.parent.mkdir(parents=True, exist_ok=True)
        return p


def _one_line(err: ValidationError) -> str:
    first = err.errors()[0]
    loc = [str(x) for x in first.get("loc", ())]
    var = ENV_PREFIX + "__".join(loc).upper() if loc else "settings"
    return f"invalid setting {var}: {first.get('msg', 'invalid value')}"


def load_settings(**overrides: object) -> Settings:
    """Read settings now; raise :class:`SettingsError` with one line naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as err:
        raise SettingsError(_one_line(err)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()


def reset_settings_cache() -> None:
    """Tests change the environment; this makes the next :func:`get_settings` read it again."""
    get_settings.cache_clear()
