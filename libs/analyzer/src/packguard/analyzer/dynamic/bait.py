"""Bait: fake credentials planted in the sandbox's home directory before the phases run.

Nothing here is a working secret: keys follow the shape of the real thing (so a stealer's
filters accept them) with inert values, hosts are reserved ``.example`` names. Each value
carries a token derived from a seed (the artifact digest), so the same input yields the
same report, and a token seen in outgoing bytes means a planted secret was sent.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path

# A bait file's path under HOME → its content, a ``str.format`` template over ``_VALUES``.
_FILES: dict[str, str] = {
    ".aws/credentials": (
        "[default]\naws_access_key_id = {aws_key_id}\naws_secret_access_key = {aws_secret}\n"
    ),
    ".aws/config": "[default]\nregion = us-east-1\noutput = json\n",
    ".ssh/id_rsa": (
        "-----BEGIN OPENSSH PRIVATE KEY-----\n{ssh_key}\n-----END OPENSSH PRIVATE KEY-----\n"
    ),
    ".ssh/id_rsa.pub": "ssh-rsa {ssh_public} bait@workstation.example\n",
    ".ssh/config": "Host build\n    HostName build.example\n    User deploy\n",
    ".npmrc": "//registry.npm.example/:_authToken={npm_token}\n",
    ".pypirc": (
        "[distutils]\nindex-servers =\n    pypi\n\n"
        "[pypi]\nusername = __token__\npassword = {pypi_token}\n"
    ),
    ".git-credentials": "https://deploy:{git_token}@git.example\n",
    ".docker/config.json": '{{"auths": {{"registry.example": {{"auth": "{docker_auth}"}}}}}}\n',
    ".config/google-chrome/Default/Login Data": "SQLite format 3\0{chrome_login}\n",
    ".config/google-chrome/Default/Cookies": "SQLite format 3\0{chrome_cookie}\n",
    ".config/google-chrome/Local State": '{{"os_crypt": {{"encrypted_key": "{chrome_key}"}}}}\n',
    ".mozilla/firefox/bait.default-release/logins.json": (
        '{{"logins": [{{"hostname": "https://mail.example", '
        '"encryptedPassword": "{firefox_password}"}}]}}\n'
    ),
    ".config/discord/Local Storage/leveldb/000003.log": "token\0{discord_token}\n",
}
# name → (prefix, alphabet, length, suffix); every value is a planted secret (>= 16 chars).
_VALUES: dict[str, tuple[str, str, int, str]] = {
    "aws_key_id": ("AKIA", "upper", 9, "EXAMPLE"),
    "aws_secret": ("", "alnum", 30, "EXAMPLEKEY"),
    "ssh_key": ("", "key", 0, ""),
    "ssh_public": ("AAAAB3NzaC1yc2E", "alnum", 60, ""),
    "npm_token": ("npm_", "alnum", 36, ""),
    "pypi_token": ("pypi-", "alnum", 48, ""),
    "git_token": ("ghp_", "alnum", 36, ""),
    "docker_auth": ("", "b64", 24, ""),
    "chrome_login": ("", "alnum", 48, ""),
    "chrome_cookie": ("", "alnum", 48, ""),
    "chrome_key": ("RFBBUEkB", "b64", 40, ""),
    "firefox_password": ("", "b64", 32, ""),
    "discord_token": ("mfa.", "alnum", 60, ""),
}
BAIT_DIRS = (".aws", ".ssh", ".docker", ".config/google-chrome", ".mozilla", ".config/discord")
# Environment a stealer dumps wholesale: the same values, so a send shows up.
_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "aws_key_id",
    "AWS_SECRET_ACCESS_KEY": "aws_secret",
    "NPM_TOKEN": "npm_token",
    "GITHUB_TOKEN": "git_token",
}
_ALPHABETS = {
    "upper": "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
    "alnum": "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789",
}


@dataclass(frozen=True)
class Bait:
    home: Path
    files: tuple[str, ...]
    """Absolute paths of the planted files."""
    tokens: tuple[str, ...]
    """The secret values planted (each at least 16 characters)."""
    environment: dict[str, str]

    def is_bait(self, path: str) -> bool:
        return path in self.files

    def is_bait_dir(self, path: str) -> bool:
        return any(path == str(self.home / d) for d in BAIT_DIRS)

    def tokens_in(self, data: bytes) -> list[str]:
        """Planted values present in ``data``: verbatim, lower-cased, hex or base64."""
        lowered = data.lower()
        found = []
        for token in self.tokens:
            raw = token.encode()
            quoted = raw.replace(b"+", b"%2b").replace(b"/", b"%2f").replace(b"=", b"%3d")
            forms = (raw.lower(), quoted.lower(), raw.hex().encode(), base64.b64encode(raw)[:16])
            if any(form in lowered or form in data for form in forms):
                found.append(token)
        return found


def bait_for(home: Path, seed: str) -> Bait:
    """The bait an analysis with ``seed`` plants under ``home``, without writing it."""
    return _contents(home, seed)[0]


def plant_bait(home: Path, seed: str) -> Bait:
    """Write every bait file under ``home`` (created if missing); values derive from ``seed``."""
    bait, contents = _contents(home, seed)
    for path, text in contents.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        path.chmod(0o600)
    (home / ".ssh").chmod(0o700)
    return bait


def _contents(home: Path, seed: str) -> tuple[Bait, dict[Path, str]]:
    values = {name: _value(seed, name, *shape) for name, shape in _VALUES.items()}
    contents = {home / relative: template.format(**values) for relative, template in _FILES.items()}
    environment = {variable: values[name] for variable, name in _ENVIRONMENT.items()}
    files = tuple(str(path) for path in contents)
    return Bait(home, files, tuple(values.values()), environment), contents


def _value(seed: str, name: str, prefix: str, alphabet: str, size: int, suffix: str) -> str:
    digest = hashlib.sha256(f"{seed}\0{name}".encode()).digest()
    if alphabet == "key":
        # An OpenSSH-looking body that says what it is once decoded.
        return base64.b64encode(
            b"openssh-key-v1\0packguard bait, not a key\0" + digest * 4
        ).decode()
    if alphabet == "b64":
        body = base64.b64encode(digest * 2).decode()[:size]
    else:
        letters = _ALPHABETS[alphabet]
        body = "".join(letters[byte % len(letters)] for byte in (digest * 2)[:size])
    return f"{prefix}{body}{suffix}"
