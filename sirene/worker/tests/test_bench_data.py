"""A clone without the bench data sets: `sirene bench` names the missing file and how to provide it."""

from __future__ import annotations

from pathlib import Path

import pytest


def test_bench_without_data_names_the_missing_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A clone without the data sets: the bench command exits 2 and names the file and the two ways out."""
    from sirene.worker.management.commands.bench import Command

    monkeypatch.setenv("SIRENE_BENCH_DATA", str(tmp_path))
    with pytest.raises(SystemExit) as exit_info:
        Command().run_from_argv(["sirene", "bench", "kb", "--quick", "--dataset", "xsid_de"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "xsid_de" / "xsid_de_variants.csv") in err and "SIRENE_BENCH_DATA" in err
