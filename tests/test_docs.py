"""The README's promises are backed: commands exist, settings and files are documented."""

from __future__ import annotations

import re

from bot.settings import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text()
MAKEFILE = (PROJECT_ROOT / "Makefile").read_text()


def test_every_make_command_in_the_readme_exists() -> None:
    targets = set(re.findall(r"^([a-z-]+):", MAKEFILE, flags=re.M))
    mentioned = set(re.findall(r"`make ([a-z-]+)", README))
    assert mentioned, "the README names no make commands"
    assert mentioned <= targets, mentioned - targets


def test_readme_has_exactly_the_two_setup_and_run_commands_up_front() -> None:
    quick = README.split("## Two commands", 1)[1].split("```", 2)[1]
    commands = [line.split("#")[0].strip() for line in quick.splitlines() if line.strip()]
    assert [c for c in commands if c and not c.startswith("bash")] == ["make run", "make test"]


def test_ci_runs_the_readme_test_command() -> None:
    assert "make test" in (PROJECT_ROOT / ".ci" / "run").read_text()


def test_files_the_readme_links_exist() -> None:
    for link in re.findall(r"\]\(([^)#]+)\)", README):
        if not link.startswith("http"):
            assert (PROJECT_ROOT / link).exists(), link


def test_architecture_doc_shows_where_later_parts_plug_in() -> None:
    text = (PROJECT_ROOT / "docs" / "architecture.md").read_text()
    for part in ("nlu/", "knowledge/", "routing/", "```"):
        assert part in text
