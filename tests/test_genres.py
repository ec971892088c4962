"""Doctype, year, status and mechanism rules, each on a short text of the genre it serves.

The texts are written for these tests (not copied from the development corpus): each shows one
class of document or phrasing the rules were made for, and one that must not be caught by them.
"""
from __future__ import annotations

import pytest

from kg.pipeline import process_file


def run(tmp_path, text: str, name: str = "doc.txt"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return process_file(path)


def pairs(doc) -> set:
    return {(m.notation, m.status) for m in doc.mechanisms}


def notations(doc) -> set:
    return {m.notation for m in doc.mechanisms}


REPORT_BODY = ("一、主要举措和成效\n（一）规范行政执法。全面落实行政执法三项制度，22个执法中队均已配备执法记录仪。\n"
               "二、存在的不足和原因\n执法人员培训力度有待加强。\n")

# --------------------------------------------------------------------------- doctype

@pytest.mark.parametrize("text", [
    # a page that opens with a salutation to subordinates and has no title
    "各县（区）人民政府，市政府各部门：\n为进一步加强行政执法工作，现就有关事项通知如下：\n"
    "一、全面推行行政执法公示制度。各部门要在每年3月底前公开执法数据。\n",
    # a 工作安排 issued with 现印发给你们, its title broken over two lines under its 文号
    "某政办〔2020〕20号\n某县人民政府办公室\n关于印发某县2020年度法治政府建设\n工作安排的通知\n"
    "各乡镇人民政府，县直有关单位：\n《某县2020年度法治政府建设工作安排》已经县政府同意，现印发给你们，请认真贯彻执行。\n"
    "2020年7月8日\n",
    # a regulation: articles and no title
    "（2019年11月22日省委常委会会议审议批准）\n第一条 为了推动党政主要负责人切实履行推进法治建设第一责任人职责，制定本细则。\n"
    "第二条 本细则适用于县级以上地方党委和政府主要负责人。\n第三条 党政主要负责人应当带头尊法学法。\n",
    # an announcement
    "为深化行政复议体制改革，现将市人民政府集中行使行政复议职责有关事项通告如下：\n"
    "一、自2021年10月1日起，由市人民政府集中行使行政复议职责。\n",
    # an indicator system with its edition after the genre word
    "市县法治政府建设示范指标体系(2021年版)\n\n根据有关部署，修订形成本指标体系，作为开展示范创建活动的评估标准。\n",
    # a news item printing a central regulation in full
    "近日，中共中央办公厅、国务院办公厅印发了《某某工作规定》，并发出通知，要求各地区各部门认真遵照执行。\n"
    "《某某工作规定》全文如下。\n",
    # a 工作指引 page without a title that names its own genre
    "为规范行政执法行为，制定本工作指引。\n一、适用范围\n本指引适用于全市各行政执法部门。\n",
    # a decree: number, publication formula, chapters and articles
    "某省人民政府令\n第123号\n《某省行政执法监督办法》已经2015年1月8日省人民政府常务会议通过，现予公布。\n"
    "2015年1月20日\n某省行政执法监督办法\n第一章 总则\n第一条 为了加强行政执法监督，制定本办法。\n",
])
def test_requirement_documents_of_every_kind_are_notices(tmp_path, text):
    assert run(tmp_path, text).doctype == "notice"


@pytest.mark.parametrize("text", [
    # a county's report opens with its superiors as addressees
    "市委、市人民政府：\n2023年，我县坚持以习近平法治思想为指导，现将有关情况报告如下：\n" + REPORT_BODY,
    # an account of the year and the next year's plan in one title
    "某局2023年法治政府建设工作总结和2024年工作安排\n2023年，我局扎实推进法治政府建设。\n" + REPORT_BODY,
    # a leader's 述法报告 with the signature under the title
    "某乡关于履行推进法治建设第一责任人职责情况的报告\n某乡党委书记 张三\n2025年2月\n"
    "2024年，我坚持以习近平法治思想为指导。现将本人2024年述法工作情况报告如下：\n" + REPORT_BODY,
    # a 述法 speech greets its audience; a portal's menu above it is no title
    "首页\n关于我们\n某县县长2023年度述法报告\n尊敬的各位领导、同志们：\n"
    "2023年，我认真履行推进法治建设第一责任人职责。\n" + REPORT_BODY,
])
def test_accounts_of_work_done_are_reports(tmp_path, text):
    assert run(tmp_path, text).doctype == "annual_report"


def test_title_found_below_page_chrome(tmp_path):
    doc = run(tmp_path, "天津市某区人民政府 2019年12月3日星期二\n\n无障碍 简体| 繁体\n\n"
                        "某区2023年度法治政府建设情况报告\n来源:某区人民政府办公室 发布时间:2024-03-28 09:18\n\n"
                        " 2023年，某区坚持以习近平法治思想为指导。\n" + REPORT_BODY)
    assert doc.title == "某区2023年度法治政府建设情况报告"
    assert (doc.doctype, doc.year) == ("annual_report", 2023)


# --------------------------------------------------------------------------- year

def test_report_signed_in_spring_is_about_the_year_before(tmp_path):
    doc = run(tmp_path, "某镇法治政府建设情况报告\n我镇坚持依法行政，到2025年基本建成法治政府。\n"
                        + REPORT_BODY + "某镇人民政府\n2025年2月10日\n")
    assert doc.year == 2024


def test_report_year_from_its_opening_not_a_cited_plan(tmp_path):
    doc = run(tmp_path, "我区认真落实《法治政府建设实施纲要(2021—2025年)》。\n2023年，区政府坚持依法行政。\n"
                        + REPORT_BODY)
    assert doc.year == 2023


def test_notice_dated_only_by_its_number(tmp_path):
    doc = run(tmp_path, "某政发〔2015〕3号\n各乡镇人民政府，县政府各部门：\n"
                        "根据《法治政府建设实施纲要（2015—2020年）》，到2020年基本建成法治政府，现就有关事项通知如下：\n"
                        "一、各部门要全面推行行政执法公示制度。\n")
    assert (doc.doctype, doc.year) == ("notice", 2015)


def test_circular_on_last_year_is_dated_by_its_number(tmp_path):
    doc = run(tmp_path, "某市人民政府文件\n某政函〔2020〕103号\n某市人民政府\n关于2019年度全市法治政府\n"
                        "建设(依法行政)考核结果的通报\n各县(市)区人民政府，市政府各相关部门：\n"
                        "按照《某省依法行政考核办法》，现将考核结果通报如下。\n")
    assert doc.title == "某市人民政府关于2019年度全市法治政府建设(依法行政)考核结果的通报"
    assert (doc.doctype, doc.year) == ("notice", 2020)


def test_title_freed_of_what_a_portal_glues_to_it(tmp_path):
    doc = run(tmp_path, "某政办发〔2023〕47号《某省人民政府办公厅关于印发提升行政执法质量三年行动实施方案(2023-2025年)的通知》\n"
                        "各市、县(市、区)人民政府，省各直属单位：\n现将实施方案印发给你们，请认真贯彻落实。\n")
    assert doc.title == "某省人民政府办公厅关于印发提升行政执法质量三年行动实施方案(2023-2025年)的通知"
    assert (doc.doctype, doc.year) == ("notice", 2023)


def test_a_cited_number_does_not_date_a_notice(tmp_path):
    doc = run(tmp_path, "各乡镇人民政府，县直各单位：\n根据市政府办〔2019〕5号文件精神，现就有关事项通知如下：\n"
                        "一、各单位要全面推行行政执法公示制度。\n某县人民政府办公室\n2021年3月2日\n")
    assert (doc.doctype, doc.year) == ("notice", 2021)


def test_notice_deadline_is_not_its_year(tmp_path):
    doc = run(tmp_path, "各乡(镇)人民政府，县人民政府有关部门：\n经县政府研究决定，赋予各乡(镇)23项权限。"
                        "相关工作务必于2020年2月29日前完成。\n2019年12月6日\n")
    assert doc.year == 2019


# --------------------------------------------------------------------------- status

def test_everything_a_notice_imposes_is_required(tmp_path):
    doc = run(tmp_path, "某县2024年法治政府建设工作要点\n各乡镇、各部门：\n"
                        "一、存在的问题\n部分单位行政执法公示制度落实不到位。\n"
                        "二、工作安排\n各部门要严格落实重大执法决定法制审核制度，探索建立行政执法人员培训制度。\n")
    assert doc.doctype == "notice"
    assert {s for _, s in pairs(doc)} == {"required"}
    assert {"M01a", "M01c", "M35"} <= notations(doc)


def test_a_notice_account_of_progress_is_implemented(tmp_path):
    doc = run(tmp_path, "法治政府建设实施纲要\n为全面建设法治政府，制定本纲要。\n一、总体要求\n"
                        "党的十八大以来，法治政府建设取得重大进展。重大行政决策程序制度初步建立，责任督察深入实施。"
                        "当前，法治政府建设还有一些难题。\n二、主要任务\n各地区各部门要严格落实重大行政决策程序制度。\n")
    assert doc.doctype == "notice"
    assert {("M09", "implemented"), ("M32", "implemented"), ("M09", "required")} <= pairs(doc)


def test_a_notice_purpose_after_its_account_of_progress_is_required(tmp_path):
    doc = run(tmp_path, "各乡镇人民政府，县直各单位：\n近年来，我县法治政府建设取得明显成效。"
                        "为进一步推行行政执法公示制度，现就有关事项通知如下：\n")
    assert pairs(doc) == {("M01a", "required")}


def test_a_report_that_binds_other_bodies_states_a_requirement(tmp_path):
    doc = run(tmp_path, "某市2023年法治政府建设情况报告\n一、主要举措和成效\n"
                        "我市印发通知，明确各行政执法部门应当全面推行执法全过程记录制度。我市全面推行行政执法公示制度。\n"
                        "二、下一步工作安排\n下阶段将对各区提出具体要求，各区要严格落实重大执法决定法制审核制度。"
                        "我市将持续推进双随机一公开监管。\n")
    assert ("M01b", "required") in pairs(doc) and ("M01a", "implemented") in pairs(doc)
    assert ("M01c", "required") in pairs(doc) and ("M01c", "planned") not in pairs(doc)
    assert ("M03", "planned") in pairs(doc)


def test_a_heading_listing_two_tasks_needs_its_body(tmp_path):
    doc = run(tmp_path, "某县2023年法治政府建设情况报告\n一、主要举措和成效\n（一）加强行政复议和行政执法监督工作\n"
                        "全年办理行政复议案件12件，全部依法审结，纠错率达到百分之十，行政争议得到实质性化解。\n"
                        "二、存在的不足和原因\n执法人员培训力度有待加强。\n")
    assert ("M18", "implemented") in pairs(doc)
    assert ("M20", "implemented") not in pairs(doc)


# --------------------------------------------------------------------------- mechanisms on paraphrase

def test_leaders_study_of_law_in_other_words(tmp_path):
    doc = run(tmp_path, "某镇2023年法治政府建设年度报告\n一、主要举措和成效\n"
                        "充分发挥镇党委学习中心组职能作用，镇领导带头学习法律知识。"
                        "建立全省领导干部应知应会党内法规和法律法规清单制度。\n")
    assert ("M23", "implemented") in pairs(doc)
    assert len([m for m in doc.mechanisms if m.notation == "M23"]) >= 2


def test_general_cadre_study_is_not_enforcement_training(tmp_path):
    gov = run(tmp_path, "某省人民政府2022年度法治政府建设工作情况\n2022年，省政府坚持依法行政。\n"
                        "一、主要举措和成效\n持续加强政府工作人员法治培训，组织全委集中培训，培训总课时超过24学时。"
                        "全年共组织理论学习中心组学习10次。\n", "gov.txt")
    assert not {"M35", "M23"} & notations(gov)
    bureau = run(tmp_path, "某市综合行政执法局2024年法治政府建设情况报告\n一、主要举措和成效\n"
                           "全面开展业务培训。组织执法队员开展岗位练兵，全年共组织理论学习中心组学习10次，"
                           "教育引导全局党员干部厉行法治。\n", "bureau.txt")
    assert {("M35", "implemented"), ("M23", "implemented")} <= pairs(bureau)


def test_studying_a_law_named_after_a_mechanism_is_not_the_mechanism(tmp_path):
    doc = run(tmp_path, "某局2023年法治政府建设情况报告\n一、主要举措和成效\n"
                        "认真学习习近平法治思想，以及《中华人民共和国行政复议法》等新修订的法律法规。"
                        "认真贯彻落实《重大行政决策程序暂行条例》，严格按照议事规则决策。\n")
    assert "M18" not in notations(doc)
    assert ("M09", "implemented") in pairs(doc)


def test_inspection_is_the_rule_of_law_inspection_unless_another_field_is_named(tmp_path):
    doc = run(tmp_path, "某市2020年法治政府建设情况报告\n一、主要举措和成效\n"
                        "市领导带队赴县区开展实地督察，开展督察督导2轮次。\n", "a.txt")
    assert ("M32", "implemented") in pairs(doc)
    other = run(tmp_path, "某市2020年法治政府建设情况报告\n一、主要举措和成效\n"
                          "全面完成中央生态环境保护督察反馈问题整改。\n", "b.txt")
    assert "M32" not in notations(other)


def test_recording_the_enforcement_process_by_its_devices(tmp_path):
    doc = run(tmp_path, "某局2023年法治政府建设情况报告\n一、主要举措和成效\n"
                        "执法过程实现全流程留痕，全程录音录像。\n")
    assert ("M01b", "implemented") in pairs(doc)
