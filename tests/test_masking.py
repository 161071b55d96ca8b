"""One masking function for every URL a message shows: the password never gets through,
whether the URL parses or not."""

from __future__ import annotations

import string
from urllib.parse import quote

import pytest
from hypothesis import assume
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from migrate_core.db.engine import mask_url

SCHEMES = ["postgresql+psycopg", "postgresql", "mysql+pymysql", "mariadb", "sqlite"]
#: What people type between the scheme and the user: right, and the typos seen.
SEPARATORS = ["://", ":/", ":", ":///"]
USERS = st.text(string.ascii_letters + string.digits + "_.-", min_size=1, max_size=12)
#: Passwords as people write them into URLs, unencoded ``@``, ``/``, ``:``, ``?``, ``#`` included.
PASSWORDS = st.text(
    string.ascii_letters + string.digits + "@/:?#%&=+!$*~ ", min_size=4, max_size=24
)
HOSTS = st.sampled_from(["localhost", "db.internal", "127.0.0.1:5432", "h:abc", "[::1]:3306"])
TAILS = st.sampled_from(["/app", "", "/app?sslmode=require", "/test?charset=utf8mb4&x=1"])


@settings(max_examples=400, deadline=None)
@given(
    scheme=st.sampled_from(SCHEMES),
    separator=st.sampled_from(SEPARATORS),
    user=USERS,
    password=PASSWORDS,
    host=HOSTS,
    tail=TAILS,
)
def test_the_password_never_shows(
    scheme: str, separator: str, user: str, password: str, host: str, tail: str
) -> None:
    url = f"{scheme}{separator}{user}:{password}@{host}{tail}"
    # Only a password that is not also spelt by the rest of the URL can be looked for.
    assume(password not in url.replace(password, "", 1))
    masked = mask_url(url)
    assert password not in masked
    assert "***" in masked
    assert masked.endswith(f"@{host}{tail}")  # where it points stays readable


@settings(max_examples=200, deadline=None)
@given(password=PASSWORDS, host=HOSTS)
def test_secret_query_parameters_are_masked(password: str, host: str) -> None:
    # In a query string a value is percent-encoded ("&" would start the next parameter,
    # so "password=&x=" holds an empty password): the encoded secret must not show.
    secret = quote(password, safe="")
    url = f"postgresql+psycopg://{host}/app?password={secret}&application_name=mc"
    assume(secret not in url.replace(secret, "", 1))
    masked = mask_url(url)
    assert secret not in masked
    # An "@" makes all before it user information (masked whole).
    if "@" not in secret:
        assert masked.endswith("?password=***&application_name=mc")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql:/user:S3cr3t@host/db", "postgresql:/user:***@host/db"),
        ("postgresql:user:S3cr3t@host/db", "postgresql:***@host/db"),
        ("postgresql://app:p@ss@db:5432/app", "postgresql://app:***@db:5432/app"),
        ("mysql+pymysql://root:S3/cr3t@h/test", "mysql+pymysql://root:***@h/test"),
        ("app:S3cr3t@db/app", "app:***@db/app"),
        ("postgresql://app@db/app", "postgresql://app@db/app"),
        ("sqlite:///shop.db", "sqlite:///shop.db"),
        (
            make_url("postgresql://app:S3cr3t@db/app?sslpassword=K3y"),
            "postgresql://app:***@db/app?sslpassword=***",
        ),
    ],
)
def test_examples(url: object, shown: str) -> None:
    assert mask_url(url) == shown
