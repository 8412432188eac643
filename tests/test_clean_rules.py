"""One test per cleaning rule: splitting, titles, line and block boilerplate, bylines, datelines, templates."""

from __future__ import annotations

import pandas as pd
import pytest

from flows.clean import clean

BODY = "The minister said on Tuesday that the talks had gone well and would continue next month."
BODY2 = "Officials from both countries met in the capital to discuss training and equipment programmes."


def doc(text: str, doc_id: str = "d0000000000000001") -> pd.DataFrame:
    rows, _ = clean.clean_document(doc_id, text, clean.load_rules())
    return pd.DataFrame(rows)


def status_of(text: str, line: str) -> tuple[str, str | None]:
    rows = doc(text)
    row = rows[rows["text"] == line].iloc[0]
    return row["status"], None if pd.isna(row["reason"]) else row["reason"]


@pytest.mark.parametrize("line, reason", [
    ("Post a comment", "comment_form"),
    ("Please enter your comment!", "comment_form"),
    ("Please enter your name here", "comment_form"),
    ("Required", "comment_form"),
    ("No comments:", "comment_form"),
    ("12 comments", "comment_form"),
    ("Rudaw moderates all comments submitted on our website.", "comment_moderation"),
    ("Your email address will not be published. Required fields are marked *", "comment_moderation"),
    ("A+ A-", "widget"),
    ("Share this article", "widget"),
    ("Advertisement", "widget"),
    ("3 hours ago", "relative_time"),
    ("an hour ago", "relative_time"),
    ("Updated: 5 minutes ago", "relative_time"),
    ("Follow us on Twitter, Facebook", "social_handle_line"),
])
def test_line_rules_mark_debris_with_their_reason(line, reason):
    text = f"A headline about talks\n\n{BODY}\n\n{line}\n\n{BODY2}\n"
    assert status_of(text, line) == ("boilerplate", reason)
    # the article text around it stays content
    assert status_of(text, BODY) == ("content", None)
    assert status_of(text, BODY2) == ("content", None)


def test_a_line_rule_does_not_fire_inside_a_sentence():
    line = "Readers who post a comment on the site will be asked to enter their name and address."
    assert status_of(f"Headline here\n{BODY}\n{line}\n", line) == ("content", None)


@pytest.mark.parametrize("head, reason", [("The Latest", "sidebar"), ("Related Articles", "sidebar"),
                                          ("Read more", "sidebar"), ("Comments", "comment_section")])
def test_block_rules_mark_the_header_and_everything_after_it(head, reason):
    text = f"A headline about talks\n{BODY}\n{head}\nUnrelated headline of another story\n{BODY2}\n"
    rows = doc(text)
    start = rows.index[rows["text"] == head][0]
    assert (rows.loc[start:, "reason"] == reason).all()
    assert (rows.loc[start:, "status"] == "boilerplate").all()
    assert rows.loc[1, "status"] == "content"


def test_a_later_block_rule_takes_over():
    text = f"Headline\n{BODY}\nComments\nPlease be civil.\nThe Latest\nAnother story\n"
    rows = doc(text).set_index("text")
    assert rows.loc["Please be civil.", "reason"] == "comment_section"
    assert rows.loc["Another story", "reason"] == "sidebar"


def test_outlet_byline_is_boilerplate_and_recorded_on_the_document():
    rows, info = clean.clean_document("d0000000000000001", f"Headline\n\nKurdistan 24\n\n{BODY}\n", clean.load_rules())
    assert rows[1]["status"] == "boilerplate" and rows[1]["reason"] == "byline"
    assert info["outlet_in_text"] == "Kurdistan24"


def test_title_and_repeated_title():
    rows = doc(f"Talks continue in the capital\n\nTalks continue in the capital\n{BODY}\nTalks continue in the capital\n")
    assert rows.loc[0, "status"] == "title" and pd.isna(rows.loc[0, "reason"])
    for i in (1, 3):
        assert rows.loc[i, "status"] == "title"
        assert rows.loc[i, "reason"] == "title_repeat"
        assert rows.loc[i, "duplicate_of"] == rows.loc[0, "para_id"]


def test_a_sentence_first_line_is_not_a_title():
    assert doc(f"{BODY}\n{BODY2}\n").loc[0, "status"] == "content"


def test_dateline_is_recorded_and_body_start_skips_it():
    text = f"Headline\n\nERBIL, Kurdistan Region - {BODY}\n"
    rows, info = clean.clean_document("d0000000000000001", text, clean.load_rules())
    assert info["dateline"] == "ERBIL, Kurdistan Region"
    para = rows[1]
    assert para["status"] == "content" and para["text"].startswith("ERBIL")
    assert text[para["body_start"]:para["char_end"]] == BODY
    assert rows[0]["body_start"] == rows[0]["char_start"]


def test_no_dateline_means_body_start_is_char_start():
    rows, info = clean.clean_document("d0000000000000001", f"Headline\n{BODY}\n", clean.load_rules())
    assert info["dateline"] is None
    assert all(r["body_start"] == r["char_start"] for r in rows)


def test_hard_wrapped_lines_inside_a_blank_line_block_are_one_paragraph():
    text = ("Headline\n\nThe committee met on Monday and said that\nthe report would be published soon.\n\n"
            f"{BODY}\n\n{BODY2}\n")
    paras = clean.split_paragraphs(text)
    assert [p[2] for p in paras][1] == "The committee met on Monday and said that\nthe report would be published soon."
    for start, end, para in paras:
        assert text[start:end] == para


def test_lines_are_not_joined_when_the_next_starts_a_sentence_or_the_layout_is_one_per_line():
    blank = f"Headline\n\nRequired\nRequired\n\n{BODY}\n\n{BODY2}\n"
    assert [p[2] for p in clean.split_paragraphs(blank)][1:3] == ["Required", "Required"]
    one_per_line = "Headline\nthe first line without a stop\ncontinues here in lower case.\n" + BODY + "\n"
    assert len(clean.split_paragraphs(one_per_line)) == 4


def test_offsets_survive_crlf_and_no_break_spaces():
    text = "Headline\r\n\r\n\u00a0 " + BODY + " \r\n\r\n" + BODY2
    for start, end, para in clean.split_paragraphs(text):
        assert text[start:end] == para and para == para.strip()


def _corpus(n_docs: int, line: str, every: int = 1, outlet: str = "Example Outlet") -> pd.DataFrame:
    texts = []
    for i in range(n_docs):
        extra = f"\n{line}" if i % every == 0 else ""
        texts.append(f"Headline number {i}\nStory {i}: {BODY}{extra}\n{BODY2} Item {i}.\n")
    return pd.DataFrame({"doc_id": [f"d{i:016x}" for i in range(n_docs)], "text": texts,
                         "outlet": [outlet] * n_docs})


def test_a_short_line_recurring_across_an_outlets_documents_is_template():
    paragraphs, _ = clean.clean(_corpus(20, "Get our app for breaking news"))
    hits = paragraphs[paragraphs["text"] == "Get our app for breaking news"]
    assert len(hits) == 20
    assert (hits["status"] == "boilerplate").all() and (hits["reason"] == "template").all()
    assert (paragraphs.loc[paragraphs["text"].str.startswith("Story"), "status"] == "content").all()


def test_template_thresholds_are_parameters():
    corpus = _corpus(20, "Get our app for breaking news", every=5)  # in 4 documents
    paragraphs, _ = clean.clean(corpus)
    assert (paragraphs.loc[paragraphs["text"] == "Get our app for breaking news", "status"] == "content").all()
    paragraphs, _ = clean.clean(corpus, templates=clean.TemplateParams(min_docs=3, min_share=0.1))
    assert (paragraphs.loc[paragraphs["text"] == "Get our app for breaking news", "reason"] == "template").all()


def test_template_learning_is_per_outlet():
    a = _corpus(10, "Get our app for breaking news", outlet="Outlet A")
    b = _corpus(3, "Get our app for breaking news", outlet="Outlet B")
    b["doc_id"] = [f"e{i:016x}" for i in range(3)]
    paragraphs, _ = clean.clean(pd.concat([a, b], ignore_index=True),
                                templates=clean.TemplateParams(min_docs=5, min_share=0.5))
    line = paragraphs[paragraphs["text"] == "Get our app for breaking news"]
    assert (line.loc[line["doc_id"].str.startswith("d"), "reason"] == "template").all()
    assert (line.loc[line["doc_id"].str.startswith("e"), "status"] == "content").all()


def test_long_lines_are_never_templates():
    paragraphs, _ = clean.clean(_corpus(20, BODY2 + " " + BODY))
    assert (paragraphs.loc[paragraphs["text"] == BODY2 + " " + BODY, "status"] == "content").all()
