"""deploy/bridge.example.toml stays valid, also with every commented-out example enabled."""

from pathlib import Path

from bridge import config

EXAMPLE = Path(__file__).parents[2] / "deploy" / "bridge.example.toml"


def enabled(text: str) -> str:
    """The example with its commented settings and tables switched on (secrets literal)."""
    header, settings = text.split("\n[daemon]\n", 1)
    lines = [header, "[daemon]"]
    for line in settings.splitlines():
        body = line.removeprefix("# ")
        is_setting = line.startswith("# ") and ("=" in body or body.startswith(("[", "]")))
        lines.append(body if is_setting else line)
    return "\n".join(lines).replace('"credential:', '"')


def test_example_config_loads_as_shipped() -> None:
    assert config.load(EXAMPLE, {}).sci == []


def test_every_commented_example_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "full.toml"
    path.write_text(enabled(EXAMPLE.read_text()))
    loaded = config.load(path, {})
    assert [s.id for s in loaded.sci] == ["support-cases", "mobile-tasks", "engineering-deals"]
    support = loaded.sci[0]
    assert support.rule is not None and support.rule.create_when_not_met
    assert loaded.zoho.crm is not None and loaded.zoho.projects is not None
