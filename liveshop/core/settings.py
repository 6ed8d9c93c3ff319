"""Settings from environment variables (prefix ``LIVESHOP_``) with working defaults."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET_KEY = "dev-insecure-change-me"
MIN_SECRET_KEY_LENGTH = 32


class InsecureSettings(RuntimeError):
    """Production settings that must not run (the message says what to change)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LIVESHOP_", env_file=".env", extra="ignore")

    # LIVESHOP_ENV (or LIVESHOP_ENVIRONMENT): "production" refuses insecure settings.
    environment: str = Field(
        default="development",
        validation_alias=AliasChoices("LIVESHOP_ENV", "LIVESHOP_ENVIRONMENT", "environment"),
    )
    database_url: str = "sqlite+aiosqlite:///./var/liveshop.db"
    broker_url: str = "memory://"
    secret_key: str = Field(
        default=DEV_SECRET_KEY,
        description="Signs CSRF tokens and webhooks; set a long random value in production.",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    log_json: bool = False
    # Session cookie (pages) and bearer tokens (API) share one token table.
    session_cookie_name: str = "liveshop_session"
    csrf_cookie_name: str = "liveshop_csrf"
    session_ttl_hours: int = 24 * 14
    api_token_ttl_days: int = 90
    # Served over HTTPS (directly or behind a TLS proxy): cookies are marked Secure and pages
    # send Strict-Transport-Security.
    cookie_secure: bool = False
    # Rate limits (core/ratelimit.py), each "count/seconds" (a fixed window): counters live in
    # the broker, so with Redis every node counts together. Off only for benchmarks.
    rate_limits_enabled: bool = True
    rate_limit_login_account: str = "5/60"  # failed log-ins per account (the 6th gets 429)
    rate_limit_login_ip: str = "20/60"  # failed log-ins per client address
    rate_limit_signup_ip: str = "10/600"  # sign-ups per client address
    rate_limit_checkout: str = "30/60"  # checkouts (and the room's one-tap buys) per buyer
    rate_limit_pay: str = "30/60"  # payments (orders, held claims) per buyer
    rate_limit_password_change: str = "5/900"  # failed password changes per user
    rate_limit_follow: str = "60/60"  # follows, unfollows, show reminders per user
    rate_limit_bid: str = "60/60"  # HTTP bids on auction lots per bidder (not the room socket's)
    # Giveaway entries, poll votes, questions asked and question upvotes per user.
    rate_limit_engage: str = "120/60"
    rate_limit_report: str = "20/600"  # chat reports (a line, a viewer, the show) per user
    rate_limit_held_claim: str = "60/60"  # quotes and releases of held claims per buyer
    # Behind a reverse proxy: the header that carries the client's address (e.g.
    # X-Forwarded-For or X-Real-IP), believed only from these peers (IPs or CIDRs, commas).
    # Empty header: the connection's own peer address is the client's.
    trusted_proxy_header: str = ""
    trusted_proxies: str = "127.0.0.1,::1"
    # argon2 cost; tests lower it, production keeps the library defaults.
    password_time_cost: int = 3
    password_memory_cost_kib: int = 65536
    demo_password: str = "liveshop-demo"
    # `liveshop serve`: on SIGTERM, requests still running after this many seconds are
    # cancelled (their transactions roll back) rather than holding the shutdown open.
    graceful_shutdown_seconds: int = 10
    # GET /metrics: besides a scraper on this machine's loopback, whoever sends this as a
    # bearer token (empty: loopback only).
    metrics_token: str = ""
    # `make run` pushes ffmpeg's test source into the live demo session (demo data only).
    demo_video: bool = False
    # Inventory: how long a checkout holds stock, and how often expired holds are swept
    # (0 or less: no background sweeper; reads still release expired holds lazily).
    reservation_hold_minutes: int = 10
    # A flash deal that ran out of time still takes taps and buys this long after its end
    # (live.deals.expiry): a viewer whose picture is behind (HLS delay, at most this) still
    # gets the deal the host is showing them. Sold-out and ended-early deals get none.
    deal_expiry_grace_seconds: float = 10.0
    reservation_sweep_seconds: float = 15.0
    # Analytics (liveshop/analytics): event capture is buffered and written every
    # analytics_flush_ms or once analytics_flush_events wait; raw events are rolled up per
    # minute every analytics_rollup_seconds (0: never; minutes older than the lag) and kept
    # analytics_retention_days (the rollups are kept for good).
    analytics_capture: bool = True
    analytics_flush_ms: int = 1000
    analytics_flush_events: int = 5000
    analytics_rollup_seconds: float = 30.0
    analytics_rollup_lag_minutes: int = 2
    analytics_retention_days: int = 30
    # Payments: the sandbox provider (test mode) signs its webhooks with this secret
    # (derived from secret_key when empty); late card outcomes arrive after the delay.
    payment_webhook_secret: str = ""
    sandbox_webhook_delay_s: float = 2.0
    # A payment left in flight (a crash mid-payment) longer than the grace period is resolved
    # by asking the provider, every payment_recovery_seconds (0 or less: only on the buyer's
    # retry). The grace must outlast the slowest provider answer.
    payment_recovery_grace_seconds: float = 120.0
    payment_recovery_seconds: float = 30.0
    # Tests only: while this file exists the sandbox records a charge but does not answer.
    sandbox_pause_file: str = ""
    # The simulated carrier (test mode): its clock runs this many times faster than real time
    # (3600: a carrier hour passes in a second, so a parcel is delivered within a couple of
    # minutes), and looks for due tracking webhooks every simulated_carrier_seconds (0: off).
    simulated_carrier_speedup: float = 3600.0
    simulated_carrier_seconds: float = 2.0
    # "" draws each parcel's fate (mostly on time; now and then delayed, a failed attempt,
    # lost); "normal", "delayed", "failed_attempt" or "lost" forces one (demos, tests).
    # E-mail: notices (shipped, delivered, returns…) always go to the user's inbox page; with
    # an SMTP server they are e-mailed too, every smtp_send_seconds.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = "liveshop <no-reply@liveshop.local>"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_send_seconds: float = 5.0
    public_base_url: str = "http://127.0.0.1:8000"  # links in e-mails
    # How often paid orders past their dispatch deadline's grace are cancelled and refunded
    # (logistics.sla; 0: never).
    dispatch_sweep_seconds: float = 300.0
    simulated_carrier_scenario: Literal["", "normal", "delayed", "failed_attempt", "lost"] = ""
    # Benchmarks only (``liveshop bench drop``): ``?mode=naive`` on a claim runs it as one
    # transaction of its own, unbatched — the baseline the batched claim path is measured
    # against. Never set in production.
    bench_mode: bool = False
    # Tune the cyclic garbage collector once the app has started (``core.gc_tuning``): freeze
    # what start-up built, collect the young generation less often. Off in test processes.
    gc_freeze: bool = True
    # Video (liveshop.video): "embedded" runs nginx with the RTMP module (RTMP in, HLS out)
    # next to the app; "external" uses another RTMP/HLS server or CDN (URLs below); "off".
    video_provider: Literal["embedded", "external", "off"] = "embedded"
    # Uploaded product images (catalog.images): originals resized to at most 1600 px and
    # 400 px thumbnails, as WebP, served at /media/ (web.install).
    media_dir: Path = Path("var/media")
    media_max_image_bytes: int = 8 * 1024 * 1024
    # "s3": uploaded images go to an S3-compatible bucket instead (catalog.media_store; boto3,
    # credentials from its usual chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile,
    # an instance role). The endpoint is for MinIO, R2 and the like; the public URL is where
    # buyers load the objects (default: the endpoint path-style, or the AWS bucket address).
    media_store: Literal["local", "s3"] = "local"
    media_s3_bucket: str = ""
    media_s3_prefix: str = ""
    media_s3_endpoint_url: str = ""
    media_s3_region: str = ""
    media_s3_public_url: str = ""
    video_dir: Path = Path("var/video")  # nginx.conf, HLS folders, recordings, posters
    rtmp_port: int = 1935
    video_http_port: int = 1936  # nginx's own HTTP, on 127.0.0.1 only (publisher control)
    video_grace_seconds: float = 30.0  # ingest gone this long: the session ends
    # A simulcast relay's status is a lease its process renews (every third of this): one
    # not renewed this long is read as stopped (its process died, e.g. kill -9).
    simulcast_lease_seconds: float = 30.0
    video_rtmp_url: str = ""  # what OBS is told; default rtmp://<host>:<rtmp_port>/live
    video_callback_url: str = ""  # how nginx reaches the app; default http://127.0.0.1:<port>
    video_external_playlist_url: str = ""  # e.g. https://cdn.example/hls/{stream}/index.m3u8
    video_external_replay_url: str = ""  # same placeholders ({stream}, {session_id})

    @property
    def is_production(self) -> bool:
        return self.environment.strip().lower() == "production"

    def refuse_insecure_production(self) -> None:
        """In production (``LIVESHOP_ENV=production``) a known or short secret key would let
        anyone forge CSRF values and webhook signatures: refuse to start."""
        if not self.is_production:
            return
        if self.secret_key == DEV_SECRET_KEY:
            raise InsecureSettings(
                "LIVESHOP_ENV=production with the development secret key: set LIVESHOP_SECRET_KEY"
                ' to a long random value (e.g. python -c "import secrets;'
                ' print(secrets.token_urlsafe(48))")'
            )
        if len(self.secret_key) < MIN_SECRET_KEY_LENGTH:
            raise InsecureSettings(
                f"LIVESHOP_SECRET_KEY is {len(self.secret_key)} characters long: production"
                f" needs at least {MIN_SECRET_KEY_LENGTH} random characters"
            )

    def webhook_secret(self) -> str:
        if self.payment_webhook_secret:
            return self.payment_webhook_secret
        import hashlib

        return hashlib.sha256(b"webhooks:" + self.secret_key.encode()).hexdigest()

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        _, _, rest = self.database_url.partition(":///")
        if not rest or rest.startswith(":memory:"):
            return None
        return Path(rest)


@lru_cache
def get_settings() -> Settings:
    return Settings()
