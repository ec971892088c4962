import re

from kg.normalize import normalize_text, parse_header, strip_pinyin, to_simplified
from kg.offsets import OffsetMap, delete_spans

from conftest import seed


def test_004_is_simplified_without_pinyin():
    source = seed("004").read_text(encoding="utf-8")
    text, offsets, header = normalize_text(source)
    assert "执法局" in text and "執" not in text and "發" not in text
    assert not re.search(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü ]+\)", text)
    assert "(一)" in text and "街道(镇)" in text
    assert header["publisher"] == "区综合行政执法局" and header["written"] == "2023-01-16"
    assert header["index_no"] == "742187943/2023-51463"


def test_offsets_quote_the_source():
    source = seed("004").read_text(encoding="utf-8")
    text, offsets, _ = normalize_text(source)
    i = text.index("江北区综合行政执法局关于")
    s, e = offsets.span(i, i + len("江北区综合行政执法局"))
    assert source[s:e] == "江北區(qū)綜合行政執(zhí)法局"
    # every normalized character maps to a source character that converts to it
    for k in range(0, len(text), 37):
        assert to_simplified(source[offsets[k]]) == text[k]


def test_pinyin_groups_only():
    kept = "(一)县(区)条例(草案)纲要(2021—2025年)街道(镇)报告(APP)"
    assert strip_pinyin(kept) == []
    assert [kept] == [delete_spans(kept, strip_pinyin(kept))[0]]
    assert delete_spans("發(fā)布機構(gòu)", strip_pinyin("發(fā)布機構(gòu)"))[0] == "發布機構"


def test_chrome_dropped_and_simplified_text_untouched():
    src = "正文第一段。\n扫一扫在手机上查看当前页面\n【打印本页】 【关闭窗口】\n"
    text, offsets, _ = normalize_text(src)
    assert "扫一扫" not in text and "打印本页" not in text and "关闭窗口" not in text
    assert text.startswith("正文第一段。")
    plain = seed("000").read_text(encoding="utf-8")
    assert normalize_text(plain)[0] == plain.translate(str.maketrans({"\u3000": " "}))


def test_header_fields_with_spaced_labels():
    header, spans = parse_header("索引号: 11/2024-1\n文 号: 乳政发〔2024〕3号 主题分类: 政务公开\n正文")
    assert header == {"index_no": "11/2024-1", "doc_no": "乳政发〔2024〕3号", "topic": "政务公开"}
    assert len(spans) == 2


def test_offset_map_composition():
    text, inner = delete_spans("abcdefgh", [(1, 3)])        # "adefgh"
    text2, outer = delete_spans(text, [(2, 4)])               # "adgh"
    both = outer.then(inner)
    assert text2 == "adgh"
    assert [both[i] for i in range(4)] == [0, 3, 6, 7]
    assert OffsetMap.identity(3)[2] == 2
