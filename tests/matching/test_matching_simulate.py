"""`crowdmentor pair simulate`: the JSON summary, the groups file and the module entry point."""

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.matching.simulate import synthetic_do_not_pair, synthetic_members
from bot.matching.simulate_cli import add_arguments, main

ROOT = Path(__file__).resolve().parents[2]


def parse(*argv):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(argv))


def test_json_prints_one_object_with_the_contract_keys(capsys):
    status = main(parse("--members", "120", "--rounds", "12", "--absent", "0.25", "--json"))

    assert status == 0
    summary = json.loads(capsys.readouterr().out)
    for key in (
        "members",
        "rounds",
        "groups",
        "repeats",
        "left_out",
        "seconds_total",
        "seconds_per_round_max",
        "peak_rss_mb",
        "avoidable_repeats",
        "trios_per_round_max",
    ):
        assert key in summary, key
    assert summary["members"] == 120
    assert summary["rounds"] == 12
    assert summary["groups"] == 12 * 45
    assert summary["repeats"] == summary["avoidable_repeats"] == 0
    assert summary["left_out"] == 0
    assert summary["trios_per_round_max"] == 0
    assert summary["do_not_pair_violations"] == 0
    assert 0 < summary["seconds_per_round_max"] <= summary["seconds_total"]
    assert summary["peak_rss_mb"] > 0


def test_groups_out_has_one_line_per_round_whose_groups_partition_the_present(tmp_path, capsys):
    out = tmp_path / "groups.jsonl"
    main(parse("--members", "31", "--rounds", "40", "--absent", "0.2", "--seed", "7",
               "--groups-out", str(out)))  # fmt: skip

    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["round"] for line in lines] == list(range(1, 41))
    everyone = {m.id for m in synthetic_members(31, 7)}
    avoid = {frozenset(p) for p in synthetic_do_not_pair(synthetic_members(31, 7), 7)}
    met: set[frozenset[str]] = set()
    for line in lines:
        present = line["present"]
        assert len(present) == 31 - round(0.2 * 31)
        assert set(present) <= everyone
        seated = [m for group in line["groups"] for m in group]
        assert sorted(seated) == sorted(present)
        sizes = sorted(len(group) for group in line["groups"])
        assert sizes.count(3) == len(present) % 2
        assert set(sizes) <= {2, 3}
        pairs = {frozenset((a, b)) for g in line["groups"] for a in g for b in g if a < b}
        assert not pairs & avoid
        met |= pairs
    # 40 rounds of 25 people each meet a good share of the 465 possible pairs.
    assert len(met) > 300
    assert "Simulated 40 rounds of 31 members" in capsys.readouterr().out


def test_the_same_seed_gives_the_same_rounds(tmp_path):
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for path in (first, second):
        main(parse("--members", "50", "--rounds", "5", "--absent", "0.1", "--seed", "x",
                   "--json", "--groups-out", str(path)))  # fmt: skip

    assert first.read_text(encoding="utf-8") == second.read_text(encoding="utf-8")


def test_readable_summary_without_json(capsys):
    main(parse("--members", "9", "--rounds", "3"))

    text = capsys.readouterr().out
    assert "Simulated 3 rounds of 9 members (0% absent each round, seed 0)." in text
    assert "groups:    12 (9 pairs, 3 trios; at most 1 a round)" in text
    assert "left out:  0" in text


@pytest.mark.parametrize(
    "argv",
    [
        ("--members", "10", "--rounds", "2", "--absent", "1"),
        ("--members", "10", "--rounds", "2", "--absent", "-0.1"),
        ("--members", "-1", "--rounds", "2"),
        ("--members", "ten", "--rounds", "2"),
        ("--rounds", "2"),
    ],
)
def test_bad_arguments_are_refused(argv):
    with pytest.raises(SystemExit):
        parse(*argv)


def test_runs_as_a_module(tmp_path):
    out = tmp_path / "g.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "bot.matching.simulate_cli", "--members", "20", "--rounds", "2",
         "--absent", "0.5", "--json", "--groups-out", str(out)],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip

    summary = json.loads(done.stdout)
    assert summary["groups"] == 10
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2
