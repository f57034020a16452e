"""Login rules and start-up: argon2 users, the demo account only in demo mode, the session secret."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tomllib

import pytest
from argon2 import PasswordHasher
from pydantic import SecretStr

from agent.ui import auth
from agent.ui.launch import banner, prepare
from engine.settings import load_settings

HASH = PasswordHasher().hash("s3cret-enough")


def test_authenticate_checks_argon2_hashes():
    users = {"alice": HASH}
    assert auth.authenticate(users, "alice", "s3cret-enough") == "alice"
    assert auth.authenticate(users, "alice", "wrong") is None
    assert auth.authenticate(users, "bob", "s3cret-enough") is None
    assert auth.authenticate({"eve": "not-a-hash"}, "eve", "not-a-hash") is None


def test_demo_account_only_in_demo_mode():
    assert auth.authenticate(auth.user_table({}, demo=True), "demo", "demo") == "demo"
    assert auth.authenticate(auth.user_table({}, demo=False), "demo", "demo") is None


@pytest.mark.parametrize("users, needle", [
    ({}, "no UI users"),
    ({"alice": "plain-password"}, "not an argon2 hash"),
    ({"alice": PasswordHasher().hash("demo")}, "default password"),
    ({"alice": PasswordHasher().hash("alice")}, "default password"),
])
def test_production_refuses_unsafe_users(users, needle):
    with pytest.raises(auth.NoUsers, match=needle):
        auth.check_users(users, demo=False)


def test_prepare_demo_writes_app_root_and_a_private_secret(fresh_home):
    launch = prepare(load_settings(), demo=True, port=8123)
    root = fresh_home / "ui"
    assert launch.url == "http://127.0.0.1:8123" and launch.app_root == root
    cfg = tomllib.loads((root / ".chainlit" / "config.toml").read_text())
    assert cfg["UI"]["name"] == "Smart-0DTE" and cfg["UI"]["custom_js"] == "/public/smart0dte.js"
    assert cfg["features"]["spontaneous_file_upload"]["enabled"] is False
    assert "http://127.0.0.1:8123" in cfg["project"]["allow_origins"]
    assert (root / "chainlit.md").read_text().startswith("# Smart-0DTE")
    assert (root / "public" / "smart0dte.js").exists()
    secret = root / "auth_secret"
    assert stat.S_IMODE(os.stat(secret).st_mode) == 0o600
    assert launch.env["CHAINLIT_AUTH_SECRET"] == secret.read_text()
    assert prepare(load_settings(), demo=True).env["CHAINLIT_AUTH_SECRET"] == secret.read_text()  # kept
    assert launch.env["SMART0DTE_DEMO_MODE"] == "true"
    assert "demo / demo" in banner(launch)


def test_prepare_production_needs_users_and_secret(fresh_home):
    with pytest.raises(auth.NoUsers, match="no UI users"):
        prepare(load_settings(), demo=False)
    with pytest.raises(auth.NoUsers, match="SMART0DTE_AUTH_SECRET"):
        prepare(load_settings(users={"alice": HASH}), demo=False)
    launch = prepare(load_settings(users={"alice": HASH}, auth_secret=SecretStr("x" * 40), ui_port=9001), demo=False)
    assert launch.port == 9001 and launch.env["CHAINLIT_AUTH_SECRET"] == "x" * 40
    assert not (fresh_home / "ui" / "auth_secret").exists()  # never generated outside demo mode
    assert "demo" not in banner(launch)


def test_cli_refuses_to_start_without_users(fresh_home):
    exe = os.path.join(os.path.dirname(sys.executable), "smart0dte")
    proc = subprocess.run([exe, "ui", "--port", "8124"], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "SMART0DTE_HOME": str(fresh_home)})
    assert proc.returncode == 2
    assert "no UI users configured" in proc.stderr and "Traceback" not in proc.stderr
