"""Settings: every OBSERVATORY_* variable validated in one place, and URLs redacted before they are shown."""

from __future__ import annotations

import pytest

from observatory_etl import config


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql://etl:s3cr3t@db.internal:5432/warehouse", "postgresql://etl:***@db.internal:5432/warehouse"),
    ("postgresql://etl@db.internal/warehouse", "postgresql://etl@db.internal/warehouse"),
    ("postgresql://postgres:@/postgres?host=/tmp/x", "postgresql://postgres:@/postgres?host=/tmp/x"),
    ("s3://landing/otel?aws_secret_access_key=abc&region=eu-west-1", "s3://landing/otel?aws_secret_access_key=***&region=eu-west-1"),
    ("az://c/p?sig=xyz&sv=2024", "az://c/p?sig=***&sv=2024"),
    ("./landing", "./landing"),
    ("gs://bucket/prefix", "gs://bucket/prefix"),
])
def test_redact_url(url, shown):
    assert config.redact_url(url) == shown
    assert not any(secret in shown for secret in ("s3cr3t", "=abc", "=xyz"))


@pytest.mark.parametrize(("name", "value", "function"), [
    ("OBSERVATORY_CHUNK_ROWS", "0", config.chunk_rows),
    ("OBSERVATORY_SCHEDULE_LAG_MINUTES", "60", config.schedule_lag_minutes),
    ("OBSERVATORY_RETENTION_DAYS", "-1", config.retention_days),
    ("OBSERVATORY_ON_BAD_INPUT", "ignore", config.on_bad_input),
    ("OBSERVATORY_SCHEMA", "Bad-Name", config.schema_name),
    ("OBSERVATORY_START", "yesterday", config.start_time),
])
def test_invalid_settings_name_the_variable(monkeypatch, name, value, function):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=name.replace("OBSERVATORY_", "") if name != "OBSERVATORY_SCHEMA" else "schema"):
        function()
