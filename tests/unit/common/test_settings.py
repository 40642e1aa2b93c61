from pydantic import SecretStr

from packguard.common.settings import ServiceSettings


def test_redacted_masks_secrets_and_url_passwords() -> None:
    settings = ServiceSettings(
        redis_url="redis://:hunter2@127.0.0.1:6379/0",
        database_url=SecretStr("postgresql://u:pw@127.0.0.1/db"),
    )
    redacted = settings.redacted()
    assert redacted["database_url"] == "***"
    assert redacted["redis_url"] == "redis://:***@127.0.0.1:6379/0"
    assert "hunter2" not in str(redacted)


def test_redacted_keeps_urls_without_passwords() -> None:
    settings = ServiceSettings(redis_url="redis://127.0.0.1:6379/0")
    assert settings.redacted()["redis_url"] == "redis://127.0.0.1:6379/0"
