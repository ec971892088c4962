from kg.pipeline import process_file

from conftest import seed


def top_roles(doc):
    return [s.role for s in doc.sections if s.depth == 1]


def test_report_outline_roles():
    doc = process_file(seed("003"))
    assert doc.doctype == "annual_report" and doc.year == 2024
    roles = top_roles(doc)
    assert roles[0] == "achievements" and "duty_holder" in roles
    assert roles[-2:] == ["weaknesses", "plans"]


def test_notice_is_requirements():
    doc = process_file(seed("001"))
    assert doc.doctype == "notice" and doc.year == 2024
    assert doc.title == "香格里拉市司法局关于进一步加强行政执法工作的通知"
    assert doc.organ == "香格里拉市司法局"
    assert set(top_roles(doc)) == {"requirements"}


def test_numbering_depths_and_enumerations():
    doc = process_file(seed("000"))
    numberings = {(s.depth, s.numbering[:2]) for s in doc.sections}
    assert (1, "一、") in numberings and (2, "(一") in numberings and (4, "一是") in numberings
    # a 一是 item inherits the role of the section it stands in
    weak = [s for s in doc.sections if s.role == "weaknesses"]
    assert weak and all(s.role == "weaknesses" for s in doc.sections
                        if weak[0].start <= s.start < weak[0].end)


def test_sentences_cover_text_with_offsets():
    doc = process_file(seed("002"))
    assert doc.sentences
    for s in doc.sentences:
        assert doc.text[s.start:s.end] == s.text and s.text.strip() == s.text
    assert doc.organ == "福清市城市管理和综合执法局"


def test_year_from_title_of_traditional_report():
    doc = process_file(seed("004"))
    assert doc.year == 2022 and doc.organ == "江北区综合行政执法局"
