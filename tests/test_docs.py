"""The README's promises are backed: commands exist, settings and files are documented."""

from __future__ import annotations

import re
from pathlib import Path

from core.paths import PROJECT_ROOT

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


# --- docs/architecture.md: every file, module, class and constant it names exists --------
PACKAGES = tuple(  # bot, core, knowledge, nlu, routing
    sorted(
        entry.name
        for entry in PROJECT_ROOT.iterdir()
        if (entry / "__init__.py").is_file() and entry.name != "tests"
    )
)
# A dotted name that starts with one of our packages: `routing.policy.RoutingPolicy`,
# `bot.web.app:create_app`, `nlu.score(texts)` (the call is left off).
DOTTED = re.compile(rf"(?<![\w/.-])(?:{'|'.join(PACKAGES)})(?:\.\w+)+(?::\w+)?")
# A path with at least one slash: `nlu/distress.py`, `core/migrations/`,
# `data/knowledge/*.md`, `bot/channels/{{socketio,rest}}.py`. Not URLs, not /api/ routes.
PATH = re.compile(r"(?<![\w/.:{}-])(?:[\w.-]+/)+[\w.*{},-]*")
FILE_NAME = re.compile(r"(?<![\w/.-])[\w-]+\.(?:py|js|mjs|css|html|yml|yaml|json|toml|md)\b")
CLASS_NAME = re.compile(r"[A-Z][a-z]\w*(?:\.\w+)*")  # `RoutingConfig.from_rasa_config`
CONSTANT = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")  # `KB_ANSWERED`, `STORE_URL`
ARCHITECTURE = PROJECT_ROOT / "docs" / "architecture.md"


def architecture_doc() -> tuple[str, list[str]]:
    """The doc's text, and its inline code spans (outside the fenced diagrams)."""
    text = ARCHITECTURE.read_text()
    prose = text.split("```")[::2]
    return text, [span for part in prose for span in re.findall(r"`([^`\n]+)`", part)]


def generated_dirs() -> tuple[str, ...]:
    """Folders setup builds (ignored by git): the doc may name what lands in them."""
    lines = (PROJECT_ROOT / ".gitignore").read_text().splitlines()
    return tuple(line.strip("/") + "/" for line in lines if line.endswith("/") and "*" not in line)


def expand(path: str) -> list[str]:
    """`a/{x,y}.py` -> `a/x.py`, `a/y.py`."""
    brace = re.search(r"\{([^{}]*)\}", path)
    if not brace:
        return [path]
    return [
        variant
        for choice in brace.group(1).split(",")
        for variant in expand(path[: brace.start()] + choice + path[brace.end() :])
    ]


def missing_path(path: str) -> str | None:
    """Why `path` does not resolve in the repository, or None if it does."""
    if path.startswith(generated_dirs()):
        return None
    for variant in expand(path.rstrip(".,;:")):
        if "*" in variant:
            found = any(PROJECT_ROOT.glob(variant))
        else:
            target = PROJECT_ROOT / variant.rstrip("/")
            found = target.exists() or target.with_suffix(".py").is_file()  # bot/actions/session
        if not found:
            return f"{variant}: no such file or folder"
    return None


def file_names() -> set[str]:
    """Names of the repository's files, outside hidden and generated folders."""
    skip = generated_dirs()
    names = set()
    for entry in PROJECT_ROOT.iterdir():
        if entry.name.startswith(".") or f"{entry.name}/".startswith(skip):
            continue
        names |= {entry.name} | {f.name for f in entry.rglob("*") if f.is_file()}
    return names


def missing_object(dotted: str) -> str | None:
    """Why `dotted` (module.attribute...) does not import, or None if it does."""
    import importlib

    names = dotted.replace(":", ".").split(".")
    for cut in range(len(names), 0, -1):
        module = ".".join(names[:cut])
        try:
            found: object = importlib.import_module(module)
        except ModuleNotFoundError as e:
            if e.name and not module.startswith(e.name):
                raise  # the module is there but needs one that is not installed
            continue
        for attribute in names[cut:]:
            if not hasattr(found, attribute):
                return f"{dotted}: {'.'.join(names[:cut])} has no {attribute!r}"
            found = getattr(found, attribute)
        return None
    return f"{dotted}: no such module"


def rasa_class(name: str) -> bool:
    """Whether Rasa or the Rasa SDK defines a class `name` (`RulePolicy`, `Tracker`)."""
    import rasa
    import rasa_sdk

    pattern = re.compile(rf"^class {name}\b", flags=re.M)
    roots = [Path(rasa.__file__).parent, Path(rasa_sdk.__file__).parent]
    return any(pattern.search(f.read_text()) for root in roots for f in root.rglob("*.py"))


def classes_in_packages() -> dict[str, str]:
    """Class name -> the module that defines it, over our packages."""
    defined = {}
    for package in PACKAGES:
        for source in sorted((PROJECT_ROOT / package).rglob("*.py")):
            module = ".".join(source.relative_to(PROJECT_ROOT).with_suffix("").parts)
            for name in re.findall(r"^class (\w+)", source.read_text(), flags=re.M):
                defined.setdefault(name, module.removesuffix(".__init__"))
    return defined


def test_architecture_doc_names_only_files_and_modules_that_exist() -> None:
    text, spans = architecture_doc()
    top_level = {entry.name for entry in PROJECT_ROOT.iterdir()}
    problems = []
    # Paths: every one in a code span; in the diagrams and prose, those under a top-level
    # folder of the repository (so "and/or" is not taken for a path).
    paths = {p for span in spans for p in PATH.findall(span)}
    paths |= {p for p in PATH.findall(text) if p.split("/")[0] in top_level}
    problems += [why for p in sorted(paths) if (why := missing_path(p))]
    # File names alone in a code span (`endpoints.yml`, `chart.js`): some file has it.
    named = {name for span in spans for name in FILE_NAME.findall(span)} - file_names()
    problems += [f"{name}: no file of that name" for name in sorted(named)]
    # Dotted names of our modules, anywhere (code spans, diagrams, prose).
    dotted = set(DOTTED.findall(text))
    problems += [why for name in sorted(dotted) if (why := missing_object(name))]
    assert dotted and paths, "found no module or path in docs/architecture.md"
    assert not problems, "docs/architecture.md names what is not there:\n" + "\n".join(problems)


def test_architecture_doc_names_only_classes_and_constants_that_exist() -> None:
    from core import constants
    from core.settings import SETTINGS

    _, spans = architecture_doc()
    classes = classes_in_packages()
    settings = {s.name for s in SETTINGS}
    problems = []
    for span in {s.strip() for s in spans}:
        if CLASS_NAME.fullmatch(span) and not (PROJECT_ROOT / span).exists():  # `Makefile`
            name = span.split(".")[0]
            if name in classes:
                problems += [why for why in [missing_object(f"{classes[name]}.{span}")] if why]
            elif not rasa_class(name):
                problems.append(f"{span}: no class {name} in {', '.join(PACKAGES)} or Rasa")
        elif CONSTANT.fullmatch(span) and not hasattr(constants, span) and span not in settings:
            problems.append(f"{span}: neither in core/constants.py nor a setting")
    assert not problems, "docs/architecture.md names what is not there:\n" + "\n".join(problems)


def test_architecture_doc_shows_every_package_in_its_layers() -> None:
    diagrams = ARCHITECTURE.read_text().split("```")[1::2]
    layers = next((d for d in diagrams if "imports" in d), "")
    shown = set(re.findall(r"^\s*(\w+)/", layers, flags=re.M))
    assert shown == set(PACKAGES), f"the layer diagram shows {sorted(shown)}"
    for package in shown:
        assert (PROJECT_ROOT / package / "__init__.py").is_file(), package
