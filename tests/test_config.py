"""Configuration is validated at start, with a message that names the bad variable."""

from __future__ import annotations

import pytest

from server.config import ConfigError, load_settings


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"database_url": "mysql://db/etour"}, "DATABASE_URL"),
        ({"database_url": "postgres:///"}, "DATABASE_URL"),
        ({"redis_url": "http://cache"}, "REDIS_URL"),
        ({"wechat_api_base": "ftp://wx"}, "WECHAT_API_BASE"),
        ({"token_ttl_seconds": 5}, "ETOUR_TOKEN_TTL_SECONDS"),
        ({"env": "staging"}, "ETOUR_ENV"),
    ],
)
def test_malformed_values_are_refused_by_name(tmp_path, overrides, named):
    with pytest.raises(ConfigError, match=named):
        load_settings(data_dir=tmp_path, **overrides)


def test_production_needs_a_real_secret_and_database(tmp_path):
    with pytest.raises(ConfigError, match="ETOUR_SECRET_KEY"):
        load_settings(env="production", data_dir=tmp_path, database_url="postgres://h/db")
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        load_settings(env="production", data_dir=tmp_path, secret_key="s" * 40)


def test_environment_variables_are_read(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "postgresql://etour@127.0.0.1:5432/etour")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/2")
    monkeypatch.setenv("WECHAT_API_BASE", "http://127.0.0.1:9/")
    settings = load_settings(data_dir=tmp_path)
    assert settings.database_url.startswith("postgresql://")
    assert not settings.uses_embedded_redis
    assert settings.wechat_api_base == "http://127.0.0.1:9"


def test_development_secret_is_generated_once_and_kept(tmp_path):
    first = load_settings(data_dir=tmp_path).secret()
    assert len(first) >= 32
    assert load_settings(data_dir=tmp_path).secret() == first
    assert (tmp_path / "secret.key").stat().st_mode & 0o077 == 0
