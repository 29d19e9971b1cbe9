"""Runtime settings, read from environment variables and an optional `.env` file.

Every setting is declared once in `SETTINGS` with its default and a description; the
README's configuration table lists the same names (a test keeps them in sync). Values
from the process environment win over `.env`, which wins over the defaults.

    >>> settings = Settings.load()
    >>> settings.rasa_url
    'http://127.0.0.1:5005'
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from core.errors import ConfigurationError
from core.paths import PROJECT_ROOT


@dataclass(frozen=True)
class Setting:
    """One documented configuration variable."""

    name: str
    default: str
    description: str
    secret: bool = False


SETTINGS: tuple[Setting, ...] = (
    Setting("HOST", "127.0.0.1", "Address every server binds to (0.0.0.0 to expose them)."),
    Setting(
        "PUBLIC_HOST",
        "",
        "Host name the browser uses to reach the servers; "
        "empty means the host the page was loaded from.",
    ),
    Setting(
        "PUBLIC_URL",
        "",
        "The web front's public address, e.g. https://support.example.com: trusted origin "
        "for the CSRF check; https makes the session cookie Secure.",
    ),
    Setting("RASA_PORT", "5005", "Port of the Rasa server (channels and HTTP API)."),
    Setting("ACTION_PORT", "5055", "Port of the action server."),
    Setting("WEB_PORT", "8080", "Port of the web front (customer chat page and agent console)."),
    Setting("DATA_DIR", "data/runtime", "Directory for the embedded databases and logs."),
    Setting("MODEL_DIR", "models", "Directory where trained Rasa models are kept."),
    Setting(
        "KNOWLEDGE_DIR",
        "models/knowledge",
        "Help-center index (built by `make index`); the server reloads it when rebuilt.",
    ),
    Setting(
        "DATABASE_URL",
        "",
        "Tracker store URL, e.g. postgresql://user@host:5432/db; "
        "empty means SQLite at DATA_DIR/tracker.db.",
    ),
    Setting(
        "STORE_URL",
        "",
        "Sample store (orders, customers, subscriptions) URL; empty "
        "means SQLite at DATA_DIR/store.db.",
    ),
    Setting(
        "RASA_API_TOKEN",
        "",
        "Token for Rasa's HTTP API; empty means a random token per run.",
        secret=True,
    ),
    Setting(
        "ACTION_SERVER_TOKEN",
        "",
        "Shared secret Rasa sends the action server (Authorization: Bearer); "
        "empty means a random secret per run.",
        secret=True,
    ),
    Setting(
        "SESSION_SECRET",
        "",
        "Signs the chat session tokens that bind a conversation to its browser; empty "
        "means a random one kept in DATA_DIR/secrets/ (at least 32 characters).",
        secret=True,
    ),
    Setting(
        "IDENTITY_SECRET",
        "",
        "Shared with your website: it signs identity tokens for signed-in customers "
        "(see 'Verified customers'); empty means a random one kept in DATA_DIR/secrets/.",
        secret=True,
    ),
    Setting(
        "DEMO_SIGN_IN",
        "auto",
        "Serve /demo, where anyone can sign in as one of the sample store's customers "
        "(data/store/seed.yml): auto means only while HOST is a loopback address; true or "
        "false.",
    ),
    Setting(
        "SMTP_URL",
        "",
        "Mail server for one-time codes, e.g. smtps://user:password@smtp.example.com:465 "
        "(smtp:// must offer STARTTLS off this machine); empty writes them to DATA_DIR/outbox/.",
        secret=True,
    ),
    Setting(
        "MAIL_FROM",
        "Brightbasket Support <support@brightbasket.example>",
        "Sender of the one-time code e-mails.",
    ),
    Setting(
        "RASA_CORS_ORIGINS",
        "",
        "Browser origins allowed to call the Rasa server, comma-separated, e.g. "
        "https://shop.example.com; empty means the web front's own origin only.",
    ),
    Setting(
        "CHAT_MESSAGES_PER_MINUTE",
        "120",
        "Chat messages accepted per minute from one client address (web chat and REST); "
        "more get HTTP 429 or a polite 'slow down'.",
    ),
    Setting(
        "CHAT_SESSIONS_PER_HOUR",
        "120",
        "New chat conversations one client address may open per hour.",
    ),
    Setting("MAX_MESSAGE_CHARS", "5000", "Longest customer message accepted, in characters."),
    Setting(
        "RETENTION_DAYS",
        "90",
        "Conversations whose last message is older are erased, and their facts keep only "
        "numbers (daily in the web front, or `make retention`).",
    ),
    Setting(
        "LOCK_STORE_URL",
        "",
        "Redis for the conversation locks of several Rasa servers (redis://host:6379/0; "
        "bot.lock_store). Empty: one Rasa server, locks in its memory.",
    ),
    Setting(
        "EVENT_BROKER_URL",
        "",
        "RabbitMQ for the tracker events of several Rasa servers (amqp://user:password@"
        "host:5672/; insights.broker.RabbitBroker). Empty: a table in the store database.",
    ),
    Setting(
        "EVENT_BROKER_QUEUE",
        "rasa_core_events",
        "The RabbitMQ queue of the tracker events (EVENT_BROKER_URL); one per installation.",
    ),
    Setting(
        "HANDOFF_BACKEND",
        "console",
        "Where conversations go when they need a person: console (the built-in agent "
        "console at WEB_PORT/console) or chatwoot.",
    ),
    Setting(
        "CHATWOOT_URL", "", "Chatwoot base URL, e.g. https://app.chatwoot.com (chatwoot only)."
    ),
    Setting("CHATWOOT_ACCOUNT_ID", "", "Chatwoot account id (chatwoot only)."),
    Setting("CHATWOOT_INBOX_ID", "", "Chatwoot API inbox id the handoffs go to (chatwoot only)."),
    Setting(
        "CHATWOOT_API_TOKEN", "", "Chatwoot user or bot access token (chatwoot only).", secret=True
    ),
    # Messaging channels (bot.channels, docs/channels.md): each is on when its settings
    # are all set, and served by the Rasa server at /webhooks/<channel>/webhook.
    Setting("TELEGRAM_TOKEN", "", "Telegram bot token from @BotFather.", secret=True),
    Setting(
        "TELEGRAM_SECRET_TOKEN",
        "",
        "Secret Telegram sends with every update (X-Telegram-Bot-Api-Secret-Token); set it "
        "with `make telegram-webhook URL=…`. 1-256 of A-Z a-z 0-9 _ -.",
        secret=True,
    ),
    Setting("TELEGRAM_API_URL", "https://api.telegram.org", "Telegram Bot API base URL."),
    Setting("SLACK_TOKEN", "", "Slack bot token (xoxb-…) of your Slack app.", secret=True),
    Setting(
        "SLACK_SIGNING_SECRET",
        "",
        "Slack app's signing secret: every event's v0 signature is checked with it.",
        secret=True,
    ),
    Setting("SLACK_API_URL", "https://slack.com/api", "Slack Web API base URL."),
    Setting("TWILIO_ACCOUNT_SID", "", "Twilio account SID (AC…), for SMS and WhatsApp."),
    Setting(
        "TWILIO_AUTH_TOKEN",
        "",
        "Twilio auth token: signs every webhook (X-Twilio-Signature) and the API calls.",
        secret=True,
    ),
    Setting(
        "TWILIO_NUMBER",
        "",
        "Your Twilio number in E.164, e.g. +15557654321; WhatsApp replies go from "
        "whatsapp:<number>.",
    ),
    Setting("TWILIO_API_URL", "https://api.twilio.com", "Twilio REST API base URL."),
    Setting(
        "TWILIO_WEBHOOK_URL",
        "",
        "The webhook URL exactly as entered at Twilio (it signs that URL); empty means the "
        "URL the request arrived at, which differs behind a TLS proxy.",
    ),
    Setting("MESSENGER_PAGE_TOKEN", "", "Facebook Page access token for Messenger.", secret=True),
    Setting(
        "MESSENGER_APP_SECRET",
        "",
        "Facebook app secret: every delivery's X-Hub-Signature-256 is checked with it.",
        secret=True,
    ),
    Setting(
        "MESSENGER_VERIFY_TOKEN",
        "",
        "A string you choose and enter at Meta when subscribing the webhook.",
        secret=True,
    ),
    Setting(
        "MESSENGER_API_URL",
        "https://graph.facebook.com/v18.0",
        "Graph API base URL, with its version, for Messenger.",
    ),
    Setting("LOG_LEVEL", "INFO", "Log level of every process (DEBUG, INFO, WARNING)."),
)

# The settings a messaging channel needs (all of them set: the channel is on), and its
# optional ones.
CHANNEL_SETTINGS: dict[str, tuple[str, ...]] = {
    "telegram": ("TELEGRAM_TOKEN", "TELEGRAM_SECRET_TOKEN"),
    "slack": ("SLACK_TOKEN", "SLACK_SIGNING_SECRET"),
    "twilio": ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_NUMBER"),
    "facebook": ("MESSENGER_PAGE_TOKEN", "MESSENGER_APP_SECRET", "MESSENGER_VERIFY_TOKEN"),
}
CHANNEL_PREFIXES = ("TELEGRAM_", "SLACK_", "TWILIO_", "MESSENGER_")

_BY_NAME = {s.name: s for s in SETTINGS}
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
HANDOFF_BACKENDS = ("console", "chatwoot")


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse a `.env` file of `NAME=value` lines; `#` starts a comment line."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :]
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ConfigurationError(
                f"{path}:{number}: expected NAME=value, got {raw!r}. Fix the line or delete it."
            )
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name] = value
    return values


@dataclass(frozen=True)
class Settings:
    """The resolved configuration of one run."""

    host: str
    public_host: str
    public_url: str
    rasa_port: int
    action_port: int
    web_port: int
    data_dir: Path
    model_dir: Path
    knowledge_dir: Path
    database_url: str
    store_url: str
    rasa_api_token: str
    max_message_chars: int
    log_level: str
    handoff_backend: str = "console"
    chatwoot: tuple[tuple[str, str], ...] = ()  # CHATWOOT_* name/value pairs
    action_server_token: str = ""
    rasa_cors_origins: tuple[str, ...] = ()  # empty: the web front's own origin
    session_secret: str = ""
    identity_secret: str = ""
    demo_sign_in: bool = True
    chat_messages_per_minute: int = 120
    smtp_url: str = ""
    mail_from: str = "Brightbasket Support <support@brightbasket.example>"
    chat_sessions_per_hour: int = 120
    messaging: tuple[tuple[str, str], ...] = ()  # TELEGRAM_*, SLACK_*, TWILIO_*, MESSENGER_*
    retention_days: int = 90
    lock_store_url: str = ""
    event_broker_url: str = ""
    event_broker_queue: str = "rasa_core_events"

    @classmethod
    def load(
        cls,
        environ: Mapping[str, str] | None = None,
        dotenv: Path | None = None,
        root: Path = PROJECT_ROOT,
    ) -> Settings:
        """Resolve every setting from `environ` (default: os.environ) and `dotenv`."""
        env = dict(os.environ if environ is None else environ)
        file_values = read_dotenv(dotenv if dotenv is not None else root / ".env")
        raw = {s.name: env.get(s.name, file_values.get(s.name, s.default)) for s in SETTINGS}
        unknown = sorted(set(file_values) - set(_BY_NAME))
        if unknown:
            raise ConfigurationError(
                f".env sets unknown setting(s) {', '.join(unknown)}. Known settings: "
                f"{', '.join(_BY_NAME)} (see the README's configuration table)."
            )

        def port(name: str) -> int:
            value = _integer(name, raw[name])
            if not 1 <= value <= 65535:
                raise ConfigurationError(f"{name}={raw[name]!r} is not a port (1-65535).")
            return value

        data_dir = _path(root, raw["DATA_DIR"])
        level = raw["LOG_LEVEL"].upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ConfigurationError(
                f"LOG_LEVEL={raw['LOG_LEVEL']!r} is not one of DEBUG, INFO, WARNING, ERROR."
            )
        backend = raw["HANDOFF_BACKEND"].strip().lower()
        if backend not in HANDOFF_BACKENDS:
            raise ConfigurationError(
                f"HANDOFF_BACKEND={raw['HANDOFF_BACKEND']!r} is not one of "
                f"{', '.join(HANDOFF_BACKENDS)}."
            )
        max_chars = _integer("MAX_MESSAGE_CHARS", raw["MAX_MESSAGE_CHARS"])
        if max_chars < 1:
            raise ConfigurationError("MAX_MESSAGE_CHARS must be a positive number of characters.")
        return cls(
            host=raw["HOST"],
            public_host=raw["PUBLIC_HOST"],
            public_url=_public_url(raw["PUBLIC_URL"]),
            rasa_port=port("RASA_PORT"),
            action_port=port("ACTION_PORT"),
            web_port=port("WEB_PORT"),
            data_dir=data_dir,
            model_dir=_path(root, raw["MODEL_DIR"]),
            knowledge_dir=_path(root, raw["KNOWLEDGE_DIR"]),
            database_url=raw["DATABASE_URL"] or f"sqlite:///{data_dir / 'tracker.db'}",
            store_url=raw["STORE_URL"] or f"sqlite:///{data_dir / 'store.db'}",
            rasa_api_token=raw["RASA_API_TOKEN"] or secrets.token_urlsafe(24),
            max_message_chars=max_chars,
            log_level=level,
            handoff_backend=backend,
            chatwoot=tuple((n, raw[n]) for n in raw if n.startswith("CHATWOOT_")),
            action_server_token=raw["ACTION_SERVER_TOKEN"] or secrets.token_urlsafe(32),
            rasa_cors_origins=_origins("RASA_CORS_ORIGINS", raw["RASA_CORS_ORIGINS"]),
            session_secret=raw["SESSION_SECRET"] or kept_secret(data_dir, "session_secret"),
            identity_secret=raw["IDENTITY_SECRET"] or kept_secret(data_dir, "identity_secret"),
            demo_sign_in=(
                raw["HOST"] in LOOPBACK_HOSTS
                if raw["DEMO_SIGN_IN"].strip().lower() == "auto"
                else _flag("DEMO_SIGN_IN", raw["DEMO_SIGN_IN"])
            ),
            chat_messages_per_minute=_positive("CHAT_MESSAGES_PER_MINUTE", raw),
            chat_sessions_per_hour=_positive("CHAT_SESSIONS_PER_HOUR", raw),
            smtp_url=_smtp_url(raw["SMTP_URL"]),
            mail_from=raw["MAIL_FROM"],
            messaging=tuple((n, raw[n]) for n in raw if n.startswith(CHANNEL_PREFIXES)),
            retention_days=_positive("RETENTION_DAYS", raw),
            lock_store_url=_redis_url("LOCK_STORE_URL", raw["LOCK_STORE_URL"]),
            event_broker_url=_amqp_url("EVENT_BROKER_URL", raw["EVENT_BROKER_URL"]),
            event_broker_queue=raw["EVENT_BROKER_QUEUE"].strip() or "rasa_core_events",
        )

    @property
    def rasa_url(self) -> str:
        return f"http://{_client_host(self.host)}:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://{_client_host(self.host)}:{self.action_port}/webhook"

    @property
    def web_url(self) -> str:
        return f"http://{_client_host(self.host)}:{self.web_port}"

    def as_environ(self) -> dict[str, str]:
        """The settings as environment variables, for child processes."""
        return {
            "HOST": self.host,
            "PUBLIC_HOST": self.public_host,
            "PUBLIC_URL": self.public_url,
            "RASA_PORT": str(self.rasa_port),
            "ACTION_PORT": str(self.action_port),
            "WEB_PORT": str(self.web_port),
            "DATA_DIR": str(self.data_dir),
            "MODEL_DIR": str(self.model_dir),
            "KNOWLEDGE_DIR": str(self.knowledge_dir),
            "DATABASE_URL": self.database_url,
            "STORE_URL": self.store_url,
            "RASA_API_TOKEN": self.rasa_api_token,
            "MAX_MESSAGE_CHARS": str(self.max_message_chars),
            "LOG_LEVEL": self.log_level,
            "HANDOFF_BACKEND": self.handoff_backend,
            **dict(self.chatwoot),
            "ACTION_SERVER_TOKEN": self.action_server_token,
            "RASA_CORS_ORIGINS": ",".join(self.rasa_cors_origins),
            "SESSION_SECRET": self.session_secret,
            "IDENTITY_SECRET": self.identity_secret,
            "DEMO_SIGN_IN": "true" if self.demo_sign_in else "false",
            "CHAT_MESSAGES_PER_MINUTE": str(self.chat_messages_per_minute),
            "CHAT_SESSIONS_PER_HOUR": str(self.chat_sessions_per_hour),
            "SMTP_URL": self.smtp_url,
            "MAIL_FROM": self.mail_from,
            **dict(self.messaging),
            "RETENTION_DAYS": str(self.retention_days),
            "LOCK_STORE_URL": self.lock_store_url,
            "EVENT_BROKER_URL": self.event_broker_url,
            "EVENT_BROKER_QUEUE": self.event_broker_queue,
        }

    def channel(self, name: str) -> dict[str, str] | None:
        """The settings of messaging channel `name` ("telegram", …) when it is on, else
        None; a channel with some but not all of its settings is an error that names the
        missing ones."""
        values = dict(self.messaging)
        needed = CHANNEL_SETTINGS[name]
        missing = [n for n in needed if not values.get(n)]
        if len(missing) == len(needed):
            return None
        if missing:
            raise ConfigurationError(
                f"The {name} channel is half set up: {', '.join(missing)} "
                f"{'is' if len(missing) == 1 else 'are'} missing. Set "
                f"{'it' if len(missing) == 1 else 'them'} too (docs/channels.md), or unset "
                f"{', '.join(n for n in needed if n not in missing)} to turn {name} off."
            )
        prefix = needed[0].split("_", 1)[0] + "_"
        chosen = {n: v for n, v in values.items() if n.startswith(prefix)}
        for setting, value in chosen.items():
            if setting.endswith("_URL") and value and not re.match(r"https?://[^/\s]+", value):
                raise ConfigurationError(f"{setting}={value!r} is not an http(s) URL.")
        secret = chosen.get("TELEGRAM_SECRET_TOKEN")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ConfigurationError(
                "TELEGRAM_SECRET_TOKEN must be 1-256 characters of A-Z, a-z, 0-9, _ and - "
                "(what Telegram's setWebhook accepts), e.g. the output of "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`."
            )
        return chosen

    @property
    def channels(self) -> tuple[str, ...]:
        """The messaging channels that are on."""
        return tuple(name for name in CHANNEL_SETTINGS if self.channel(name) is not None)


def kept_secret(data_dir: Path, name: str) -> str:
    """A random secret kept in DATA_DIR/secrets/<name> (mode 0600), made on first use, so
    chat sessions and identity tokens outlive a restart."""
    folder = data_dir / "secrets"
    path = folder / name
    try:
        if path.is_file():
            value = path.read_text(encoding="utf-8").strip()
            if value:
                return value
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        value = secrets.token_urlsafe(32)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(value + "\n")
        return value
    except OSError as e:
        raise ConfigurationError(
            f"Cannot keep the generated secret in {path}: {e}. Make DATA_DIR writable, or "
            f"set {name.upper()} yourself."
        ) from None


def _flag(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigurationError(f"{name}={value!r} is not true or false.")


def _redis_url(name: str, value: str) -> str:
    value = value.strip()
    if value and urlsplit(value).scheme not in ("redis", "rediss"):
        raise ConfigurationError(
            f"{name} must be a redis:// or rediss:// URL (redis://127.0.0.1:6379/0), "
            f"not {value.split('://')[0]!r}."
        )
    return value


def _amqp_url(name: str, value: str) -> str:
    value = value.strip()
    if value and urlsplit(value).scheme not in ("amqp", "amqps"):
        raise ConfigurationError(
            f"{name} must be an amqp:// or amqps:// URL (amqp://guest:guest@127.0.0.1:5672/), "
            f"not {value.split('://')[0]!r}."
        )
    return value


def _smtp_url(value: str) -> str:
    url = value.strip()
    if url and not re.fullmatch(r"smtps?://[^/\s]+(:\d+)?/?", url):
        raise ConfigurationError(
            "SMTP_URL is not a mail server address: write smtp://host:587 (STARTTLS when "
            "offered) or smtps://user:password@host:465, or leave it empty for the outbox."
        )
    return url


def _positive(name: str, raw: Mapping[str, str]) -> int:
    value = _integer(name, raw[name])
    if value < 1:
        raise ConfigurationError(f"{name}={raw[name]!r} must be a positive whole number.")
    return value


def _integer(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ConfigurationError(f"{name}={value!r} is not a whole number.") from None


def _origins(name: str, value: str) -> tuple[str, ...]:
    origins = tuple(o.strip().rstrip("/") for o in value.split(",") if o.strip())
    for origin in origins:
        scheme, sep, rest = origin.partition("://")
        if origin == "*" or scheme not in {"http", "https"} or not sep or not rest:
            raise ConfigurationError(
                f"{name}={value!r}: {origin!r} is not an origin. List origins such as "
                "https://shop.example.com, comma-separated (no '*': not every site may "
                "call the servers)."
            )
        if "/" in rest:
            raise ConfigurationError(
                f"{name}={value!r}: {origin!r} has a path; an origin is scheme://host[:port]."
            )
    return origins


def _path(root: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else root / path


def _client_host(host: str) -> str:
    return "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host


def _public_url(value: str) -> str:
    url = value.strip().rstrip("/")
    if url and not re.fullmatch(r"https?://[^/\s]+", url):
        raise ConfigurationError(
            f"PUBLIC_URL={value!r} is not an origin: write scheme and host only, like "
            "https://support.example.com."
        )
    return url
