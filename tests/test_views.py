"""Views for people (issue 33): readable tables published with every release, each question a user
asks answered by one query on them, and a release read as a DataFrame or with SQL, from a folder or
from a server."""

from __future__ import annotations

import pandas as pd
import pytest
from publish_helpers import publish_raw
from serve_helpers import running_server

import flows
import schemas
from flows.views.views import VIEWS


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    from conftest import RAW

    out = tmp_path_factory.mktemp("views") / "out"
    publish_raw(RAW, out)
    return out


def test_every_view_is_declared_published_and_described(out):
    for name in VIEWS:
        t = schemas.table(name)
        assert t.view and t.produced_by == "flows.views.views.build_views"
        for ext in ("parquet", "csv"):
            assert (out / "latest" / f"{name}.{ext}").is_file(), (name, ext)
    assert not any(schemas.table(n).view for n in ("participants", "quotes", "facts", "statements"))


def test_who_headed_each_delegation_at_each_dialogue_is_one_query(out):
    heads = flows.sql("SELECT event_name, start_date, name, office, side FROM who_took_part "
                      "WHERE role = 'head_of_delegation' AND event_type = 'dialogue' ORDER BY start_date, name",
                      source=out)
    got = set(zip(heads["start_date"].astype(str), heads["name"], heads["side"]))
    assert got == {("2023-08-07", "Celeste Wallander", "United States"), ("2023-08-07", "Thabit al-Abbasi", "Iraq"),
                   ("2024-07-22", "Thabit al-Abbasi", "Iraq")}
    assert heads["office"].notna().all() and heads["event_name"].str.contains("Dialogue").all()


def test_what_was_agreed_in_2024_and_by_how_many_outlets_is_one_query(out):
    agreed = flows.sql("SELECT topic_label, statement, n_documents, n_outlets FROM agreements "
                       "WHERE verb_class = 'agreement' AND start_date >= DATE '2024-01-01'", source=out)
    assert len(agreed) >= 2
    assert "Memorandum of understanding" in set(agreed["topic_label"]) or agreed["statement"].str.contains(
        "memorandum", case=False).any()
    assert (agreed["n_documents"] >= 1).all() and (agreed["n_outlets"] >= 0).all()


def test_every_quote_of_one_person_is_one_query(out):
    austin = flows.sql("SELECT text, speaker_office, event_name, outlet FROM quotes_with_speakers "
                       "WHERE speaker = 'Lloyd Austin'", source=out)
    quotes = flows.load("quotes", source=out)
    entities = flows.load("entities", source=out).set_index("entity_id")
    expected = quotes[quotes["speaker_entity_id"].map(entities["canonical_name"]) == "Lloyd Austin"]
    assert len(austin) == len(expected) >= 1
    assert set(austin["speaker_office"]) == {"Secretary of Defense"}


def test_the_numbers_reported_about_us_troops_are_one_query(out):
    troops = flows.sql("SELECT value, unit, subject, outlet FROM facts_in_context "
                       "WHERE unit IN ('troops', 'soldiers', 'forces', 'personnel') AND subject ILIKE '%US%'",
                       source=out)
    assert 2500 in set(troops["value"])


def test_views_show_their_rows_and_quotes_and_facts_carry_their_event(out):
    t = {name: flows.load(name, source=out) for name in schemas.tables()}
    assert len(t["who_took_part"]) == len(t["participants"])
    assert len(t["agreements"]) == len(t["statements"])
    assert len(t["quotes_with_speakers"]) == len(t["quotes"])
    assert len(t["facts_in_context"]) == len(t["facts"])
    event_of = t["documents"].set_index("doc_id")["event_id"]
    for name in ("quotes", "facts"):
        pd.testing.assert_series_equal(t[name]["event_id"], t[name]["doc_id"].map(event_of).astype(t[name]["event_id"].dtype),
                                       check_names=False)
        assert t[name]["event_id"].notna().any()
    labels = dict(zip(t["agreements"]["statement_id"], t["agreements"]["topic_label"]))
    assert all(isinstance(v, str) and v for v in labels.values())


def test_a_release_is_read_over_http_as_from_the_folder(out):
    with running_server(out) as url:
        remote = flows.load("who_took_part", source=url)
        count = flows.sql("SELECT count(*) AS n FROM quotes_with_speakers", source=url)["n"].item()
    pd.testing.assert_frame_equal(remote, flows.load("who_took_part", source=out))
    assert count == len(flows.load("quotes", source=out))


def test_the_sql_command_prints_the_answer(out, capsys):
    from flows import cli

    assert cli.main(["sql", "SELECT name FROM who_took_part WHERE role = 'head_of_delegation'",
                     "--source", str(out), "--csv"]) == 0
    printed = capsys.readouterr().out
    assert printed.splitlines()[0] == "name" and "Celeste Wallander" in printed
    assert cli.main(["sql", "SELECT * FROM no_such_table", "--source", str(out)]) == 1
    assert cli.main(["sql", "SELECT 1", "--source", str(out / "nowhere")]) == 2
