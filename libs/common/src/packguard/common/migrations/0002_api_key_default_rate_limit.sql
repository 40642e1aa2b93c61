-- A key created without its own rate limit follows the gateway's
-- DEFAULT_RATE_LIMIT_PER_MINUTE (NULL here), so the default can change without
-- rewriting every key.
ALTER TABLE api_keys ALTER COLUMN rate_limit_per_minute DROP NOT NULL;
ALTER TABLE api_keys ALTER COLUMN rate_limit_per_minute DROP DEFAULT;
