"""Prompts are text files under ``prompts/`` (system prompt, tool-use guidance, disclaimer, refusal
boundaries, fixed offline answers), read at run time and cached — never string literals in code.

``SMART0DTE_PROMPTS_DIR`` points at another folder (for a deployment that edits them).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

_DEFAULT_DIR = Path(__file__).resolve().parent.parent / "prompts"


def prompts_dir() -> Path:
    return Path(os.environ.get("SMART0DTE_PROMPTS_DIR") or _DEFAULT_DIR)


@lru_cache(maxsize=128)
def _read(folder: str, name: str) -> str:
    path = Path(folder) / f"{name}.txt"
    if not path.is_file():
        raise FileNotFoundError(f"prompt file {path} is missing")
    return path.read_text(encoding="utf-8").strip()


def load(name: str) -> str:
    """The text of ``prompts/<name>.txt`` (``name`` may contain a sub-folder: ``refusals/mode``)."""
    return _read(str(prompts_dir()), name)


def exists(name: str) -> bool:
    return (prompts_dir() / f"{name}.txt").is_file()


def system_prompt(today: str, user_label: str = "the trader") -> str:
    """The LLM's system message: persona and 0DTE knowledge, tool use, boundaries, disclaimer.

    Only non-secret facts go in: today's exchange date and who is being helped (a display label).
    """
    parts = [load("system"), load("tool_use"), load("refusals"),
             f"Disclaimer to include when giving analysis of trades: {load('disclaimer')}",
             f"Today's exchange date (America/New_York): {today}. You are helping {user_label}."]
    return "\n\n".join(parts)
