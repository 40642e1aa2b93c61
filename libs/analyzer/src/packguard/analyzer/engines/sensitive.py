"""What counts as a secret, a destination and a place to persist, for both languages.

The matchers of the ``python-ast`` and ``js`` engines share these so that a technique is
recognised the same way whatever the package is written in.
"""

from __future__ import annotations

import re

# Files where users keep credentials, and browser/chat/wallet token stores.
SECRET_PATH = re.compile(
    r"(^|[/\\~])\.ssh([/\\]|$)"
    r"|\bid_(rsa|dsa|ecdsa|ed25519)\b"
    r"|(^|[/\\~])\.aws([/\\]|$)"
    r"|(^|[/\\~])\.config[/\\]gcloud\b"
    r"|(^|[/\\~])\.(npmrc|pypirc|netrc|git-credentials)$"
    r"|(^|[/\\~])\.docker[/\\]config\.json"
    r"|(^|[/\\~])\.kube[/\\]config"
    r"|\bLogin Data\b|\bLocal State\b|Local Storage[/\\]leveldb"
    r"|[/\\](discord|discordcanary|discordptb|Telegram Desktop)([/\\]|$)"
    r"|[/\\]tdata([/\\]|$)|\bwallet\.dat\b|[/\\](Exodus|Electrum|atomic)[/\\]",
    re.IGNORECASE,
)
# The bare names, as they appear when a path is built piece by piece.
SECRET_PATH_PART = re.compile(
    r"^(\.ssh|\.aws|\.npmrc|\.pypirc|\.netrc|\.git-credentials|\.kube|\.docker|id_rsa"
    r"|id_ed25519|credentials|Login Data|Local State|tdata|wallet\.dat)$"
)


SECRET_STRING = re.compile(f"{SECRET_PATH.pattern}|{SECRET_PATH_PART.pattern}", re.IGNORECASE)

# A hard-coded network destination: a URL, an IPv4 address (with port), or a host name /
# DNS suffix that data gets prepended to (``.x.example``). Bare host names must end in a
# common or reserved top-level domain: ``os.environ`` and ``config.json`` are not hosts.
_TLDS = (
    "com|net|org|io|co|me|dev|app|ai|info|biz|xyz|top|site|online|club|pro|live|link|shop"
    "|store|tech|space|fun|icu|cloud|ru|cn|tk|su|pw|cc|ws|to|in|uk|de|fr|jp|br|us|eu|ly"
    "|gg|sh|su|ir|kp|onion|invalid|example|test|localhost"
)
DESTINATION = re.compile(
    r"^\s*(?:(?:https?|wss?|ftp|tcp|udp)://[^\s/]+"
    r"|(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?"
    rf"|(?:\$\{{\}})?\.?(?:[a-z0-9-]+\.)+(?:{_TLDS})\.?(?::\d{{1,5}})?(?:/\S*)?\s*$)",
    re.IGNORECASE,
)


# Where code plants itself to run again: shell start-up files, cron, autostart entries.
PERSISTENCE_PATH = re.compile(
    r"(^|[/\\~])\.(bashrc|bash_profile|bash_login|profile|zshrc|zprofile|zshenv|cshrc)$"
    r"|(^|[/\\~])\.config[/\\](autostart|systemd[/\\]user)\b"
    r"|[/\\]etc[/\\](cron|crontab|rc\.local|profile\.d|systemd)"
    r"|[/\\]var[/\\]spool[/\\]cron|\bcrontab\b"
    r"|Library[/\\]LaunchAgents|Start Menu[/\\]Programs[/\\]Startup"
    r"|CurrentVersion[/\\]+Run(Once)?\b|\bschtasks(\.exe)?\b",
    re.IGNORECASE,
)
