"""Settings of the Character.AI client: the token, every endpoint, every timeout and the reconnect backoff."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

TOKEN_PREFIX = "Token "


class CharacterAIConfig(BaseModel):
    """Defaults are the real service; tests point every URL at a local fake and shrink every timeout."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    token: SecretStr = Field(description='API key, raw or as "Token <key>"')

    neo_url: str = Field(default="https://neo.character.ai", description="neo REST base URL")
    plus_url: str = Field(default="https://plus.character.ai", description="plus REST base URL")
    dm_ws_url: str = Field(default="wss://neo.character.ai/ws/", description="one-on-one chat websocket")
    room_ws_url: str = Field(
        default="wss://neo.character.ai/connection/websocket", description="group room (Centrifugo) websocket"
    )
    avatar_url_template: str = Field(
        default="https://characterai.io/i/400/static/avatars/{file}?webp=true&anim=0",
        description="how an avatar file name becomes a URL; {file} is replaced",
    )

    connect_timeout: float = Field(default=15.0, gt=0, description="opening a websocket (and waiting for it)")
    request_timeout: float = Field(default=30.0, gt=0, description="one REST call or one non-streaming command")
    first_token_timeout: float = Field(
        default=60.0, gt=0, description="from writing the request to the socket until the first chunk"
    )
    idle_timeout: float = Field(default=30.0, gt=0, description="longest gap between two reply chunks")
    reconnect_initial: float = Field(default=1.0, gt=0, description="first delay before reconnecting")
    reconnect_max: float = Field(default=60.0, gt=0, description="cap of the exponential reconnect delay")
    reset_on_timeout: bool = Field(
        default=True, description="reopen a websocket after a request on it timed out (it may be stuck)"
    )
    dm_sockets: int = Field(
        default=3, ge=1, le=16, description="DM websockets per account, each carrying one command at a time"
    )
    queue_timeout: float = Field(
        default=120.0, gt=0, description="longest wait for a free DM websocket before a request fails"
    )
    recovery_attempts: int = Field(
        default=3, ge=1, description="history look-ups for what a dropped connection may have left undone"
    )
    recovery_interval: float = Field(default=1.0, ge=0, description="pause between two recovery look-ups")
    recovery_timeout: float = Field(
        default=60.0, gt=0, description="how long a reply cut by a dropped connection may take to finish"
    )
    recovery_pages: int = Field(default=2, ge=1, description="history pages searched when recovering")

    user_agent: str = "Character.AI"
    origin_id: str = Field(default="web-next", description='"web-next" or "Android"')
    model_type: str | None = Field(default=None, description="preferred model for new chats, e.g. MODEL_TYPE_SMART")
    language: str = "en"

    @field_validator("token", mode="before")
    @classmethod
    def _strip_prefix(cls, value: object) -> object:
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        if not isinstance(raw, str):
            return value
        key = raw.strip()
        if key == TOKEN_PREFIX.strip() or key.startswith(TOKEN_PREFIX):
            key = key[len(TOKEN_PREFIX) :].strip()
        if not key:
            raise ValueError("the Character.AI token is empty")
        return SecretStr(key)

    @model_validator(mode="after")
    def _check_backoff(self) -> CharacterAIConfig:
        if self.reconnect_max < self.reconnect_initial:
            raise ValueError("reconnect_max must be at least reconnect_initial")
        return self

    @property
    def key(self) -> str:
        """The bare key. Only the transport code reads it, to build headers."""
        return self.token.get_secret_value()

    def auth_header(self) -> str:
        return f"{TOKEN_PREFIX}{self.key}"

    def auth_cookie(self) -> str:
        # The quotes are part of the cookie value, as the web client sends it.
        return f'HTTP_AUTHORIZATION="{TOKEN_PREFIX}{self.key}"'

    def avatar_url(self, file_name: str | None) -> str | None:
        if not file_name:
            return None
        return self.avatar_url_template.replace("{file}", file_name)
