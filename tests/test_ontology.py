"""The ontology files: they parse, conform to their own shapes, cover the reference catalogue,
and name every concept with labels that the lexicon can use unambiguously."""
from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pytest
import rdflib
from rdflib import RDF, RDFS, OWL, SKOS, Literal, Namespace, URIRef

pyshacl = pytest.importorskip("pyshacl")

ONTOLOGY = Path(__file__).resolve().parents[1] / "ontology"
TSV = Path(__file__).parents[2] / "shared/eval/mechanisms.tsv"

KG = Namespace("https://w3id.org/fazhi-kg/ontology#")
KGM = Namespace("https://w3id.org/fazhi-kg/mechanism/")
KGI = Namespace("https://w3id.org/fazhi-kg/institution/")
KGR = Namespace("https://w3id.org/fazhi-kg/requirement/")
DPV = Namespace("https://w3id.org/dpv#")
DCTERMS = Namespace("http://purl.org/dc/terms/")

TTL_FILES = ["kg.ttl", "mechanisms.ttl", "institutions.ttl", "requirements.ttl", "shapes.ttl",
             "ontology-shapes.ttl"]
LEXICON_PROPS = (SKOS.prefLabel, SKOS.altLabel, SKOS.hiddenLabel, KG.evidenceLabel)


def load(*names: str) -> rdflib.Graph:
    g = rdflib.Graph()
    for name in names:
        g.parse(ONTOLOGY / name, format="turtle")
    return g


@pytest.fixture(scope="module")
def mech() -> rdflib.Graph:
    return load("mechanisms.ttl")


@pytest.fixture(scope="module")
def inst() -> rdflib.Graph:
    return load("institutions.ttl")


@pytest.fixture(scope="module")
def vocab() -> rdflib.Graph:
    return load("kg.ttl")


@pytest.fixture(scope="module")
def ontology() -> rdflib.Graph:
    return load("mechanisms.ttl", "institutions.ttl", "kg.ttl", "requirements.ttl")


def zh(g: rdflib.Graph, s, p=SKOS.prefLabel) -> list[str]:
    return [str(o) for o in g.objects(s, p) if isinstance(o, Literal) and o.language == "zh"]


def catalogue_rows() -> list[dict]:
    if not TSV.exists():
        pytest.skip(f"reference catalogue not found at {TSV}")
    with TSV.open(encoding="utf-8") as f:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(f, delimiter="\t")]


# ---------------------------------------------------------------- parsing and self-validation

@pytest.mark.parametrize("name", TTL_FILES)
def test_file_parses(name):
    g = load(name)
    assert len(g) > 0


def test_the_pipeline_reads_the_triples_rdflib_reads():
    """kg.ontology reads the files with pyoxigraph into str terms: every triple rdflib parses is
    there, with its literal's text and language, and nothing else."""
    from kg import ontology as kg_ontology
    read = kg_ontology.graph()
    reference = load(*kg_ontology.ONTOLOGY_FILES)
    assert not any(isinstance(t, rdflib.BNode) for triple in reference for t in triple)
    found = {(s, p, str(o), getattr(o, "language", None)) for s, p, o in read}
    assert found == {(str(s), str(p), str(o), getattr(o, "language", None)) for s, p, o in reference}
    some = next(iter(reference.subjects(SKOS.prefLabel, None)))
    assert {(str(o), o.language) for o in reference.objects(some, SKOS.prefLabel)} == \
        {(o, o.language) for o in read.objects(some, str(SKOS.prefLabel))}


def test_ontology_conforms_to_ontology_shapes(ontology):
    shapes = load("ontology-shapes.ttl")
    conforms, _, text = pyshacl.validate(ontology, shacl_graph=shapes)
    assert conforms, text


def test_data_shapes_parse_as_shacl_and_accept_empty_graph():
    shapes = load("shapes.ttl")
    assert any(shapes.subjects(RDF.type, URIRef("http://www.w3.org/ns/shacl#NodeShape")))
    conforms, _, text = pyshacl.validate(rdflib.Graph(), shacl_graph=shapes)
    assert conforms, text


# ---------------------------------------------------------------- the reference catalogue

def test_every_catalogue_row_has_its_concept(mech):
    rows = catalogue_rows()
    assert rows
    for row in rows:
        n = row["notation"]
        c = KGM[n]
        assert (c, RDF.type, SKOS.Concept) in mech, n
        assert (c, SKOS.inScheme, KGM.scheme) in mech, n
        assert [str(o) for o in mech.objects(c, SKOS.notation)] == [n]
        assert zh(mech, c) == [row["prefLabel"]], n
        alts = set(zh(mech, c, SKOS.altLabel))
        missing = [a for a in row["altLabels"].split("|") if a and a not in alts]
        assert not missing, (n, missing)
        broader = {str(o) for o in mech.objects(c, SKOS.broader)}
        expected = {str(KGM[row["broader"]])} if row["broader"] else set()
        assert broader == expected, n


def test_extra_concepts_do_not_reuse_catalogue_notations(mech):
    rows = catalogue_rows()
    catalogue = {r["notation"] for r in rows}
    for c in mech.subjects(RDF.type, SKOS.Concept):
        n = str(mech.value(c, SKOS.notation))
        assert c == KGM[n], f"concept IRI must be kgm:<notation>: {c}"
        if n not in catalogue:
            assert n.startswith("X"), f"extra concept {n} must use an X notation"


# ---------------------------------------------------------------- labels (the lexicon)

@pytest.mark.parametrize("name", ["mechanisms.ttl", "institutions.ttl"])
def test_a_label_names_one_concept(name):
    g = load(name)
    owners = defaultdict(set)
    for p in LEXICON_PROPS:
        for s, o in g.subject_objects(p):
            if isinstance(o, Literal) and o.language != "en" and (s, RDF.type, SKOS.Concept) in g:
                owners[str(o)].add(str(g.value(s, SKOS.notation)))
    shared = {label: sorted(ns) for label, ns in owners.items() if len(ns) > 1}
    assert not shared, shared


@pytest.mark.parametrize("name", ["mechanisms.ttl", "institutions.ttl"])
def test_labels_are_clean_simplified_chinese(name):
    g = load(name)
    labels = [o for p in LEXICON_PROPS for o in g.objects(None, p)
              if isinstance(o, Literal) and o.language != "en"]
    assert labels
    for o in labels:
        assert o.language == "zh", o
        assert str(o) == str(o).strip() and str(o), repr(o)
    try:
        import opencc
    except ImportError:
        return
    t2s = opencc.OpenCC("t2s")
    traditional = [str(o) for o in labels if t2s.convert(str(o)) != str(o)]
    assert not traditional, traditional


def test_lexicon_labels_are_not_single_characters(mech, inst):
    for g in (mech, inst):
        for p in LEXICON_PROPS:
            for o in g.objects(None, p):
                if isinstance(o, Literal) and o.language == "zh":
                    assert len(str(o)) >= 2, f"too generic to match: {o}"


def test_every_concept_has_english_name_and_definitions(mech, inst):
    for g in (mech, inst):
        for c in g.subjects(RDF.type, SKOS.Concept):
            langs = {o.language for o in g.objects(c, SKOS.prefLabel)}
            assert {"zh", "en"} <= langs, c
            dlangs = {o.language for o in g.objects(c, SKOS.definition)}
            assert {"zh", "en"} <= dlangs, c


# ---------------------------------------------------------------- hierarchy

@pytest.mark.parametrize("name", ["mechanisms.ttl", "institutions.ttl", "kg.ttl"])
def test_broader_has_no_cycles(name):
    g = load(name)
    up = defaultdict(set)
    for s, o in g.subject_objects(SKOS.broader):
        up[s].add(o)

    def reaches(start, node, seen):
        for nxt in up.get(node, ()):
            if nxt == start:
                return True
            if nxt not in seen:
                seen.add(nxt)
                if reaches(start, nxt, seen):
                    return True
        return False

    cyclic = [str(c) for c in up if reaches(c, c, set())]
    assert not cyclic, cyclic


@pytest.mark.parametrize("name,scheme", [("mechanisms.ttl", KGM.scheme), ("institutions.ttl", KGI.scheme)])
def test_hierarchy_is_consistent(name, scheme):
    g = load(name)
    concepts = set(g.subjects(RDF.type, SKOS.Concept))
    for c in concepts:
        broader = set(g.objects(c, SKOS.broader))
        for b in broader:
            assert b in concepts, (c, b)
            assert (b, SKOS.narrower, c) in g, f"{b} skos:narrower {c} missing"
        for n in g.objects(c, SKOS.narrower):
            assert (n, SKOS.broader, c) in g, f"{n} skos:broader {c} missing"
        top = (c, SKOS.topConceptOf, scheme) in g
        assert top == (not broader), c
        assert top == ((scheme, SKOS.hasTopConcept, c) in g), c


# ---------------------------------------------------------------- institutions

def test_institution_types_and_related_mechanisms(inst, mech):
    kinds = {KG.RoleKind, KG.OrganizationKind}
    for c in inst.subjects(RDF.type, SKOS.Concept):
        types = set(inst.objects(c, KG.institutionType))
        assert len(types) == 1 and types <= kinds, c
        assert (c, RDF.type, next(iter(types))) in inst, c
        for m in inst.objects(c, KG.relatedMechanism):
            assert (m, RDF.type, SKOS.Concept) in mech, (c, m)
    role = lambda label: inst.value(next(inst.subjects(SKOS.prefLabel, Literal(label, lang="zh"))),
                                    KG.institutionType)
    assert role("法律顾问") == KG.RoleKind
    assert role("执法中队") == KG.OrganizationKind
    lawyer = next(inst.subjects(SKOS.prefLabel, Literal("法律顾问", lang="zh")))
    assert (lawyer, KG.relatedMechanism, KGM.M04) in inst


# ---------------------------------------------------------------- requirements

def test_requirements_point_to_existing_concepts(ontology, mech):
    reqs = list(ontology.subjects(RDF.type, KG.Requirement))
    assert len(reqs) >= 25
    levels = set(ontology.subjects(RDF.type, KG.AdministrativeLevel))
    bodies = set(ontology.subjects(RDF.type, KG.BodyKind))
    for r in reqs:
        targets = list(ontology.objects(r, KG.requiresMechanism))
        assert len(targets) == 1, r
        assert (targets[0], SKOS.inScheme, KGM.scheme) in mech, (r, targets[0])
        assert (r, KG.inSet, KGR["baseline-2021"]) in ontology, r
        assert set(ontology.objects(r, KG.bindsLevel)) and set(ontology.objects(r, KG.bindsLevel)) <= levels, r
        assert set(ontology.objects(r, KG.bindsBodyKind)) and set(ontology.objects(r, KG.bindsBodyKind)) <= bodies, r
        cite = str(ontology.value(r, DCTERMS.bibliographicCitation))
        assert cite.startswith("《法治政府建设实施纲要(2021—2025年)》"), r
    base = KGR["baseline-2021"]
    assert (base, RDF.type, KG.RequirementSet) in ontology
    assert str(ontology.value(base, DCTERMS.issued)) == "2021-08-11"


def test_baseline_covers_the_core_mechanisms(ontology):
    required = {str(ontology.value(m, SKOS.notation))
                for m in ontology.objects(None, KG.requiresMechanism)}
    core = {"M01", "M01a", "M01b", "M01c", "M03", "M04", "M05", "M06", "M08", "M09", "M10", "M11",
            "M12", "M13", "M15", "M16", "M17", "M18", "M20", "M21", "M22", "M23", "M25", "M26", "M32", "M35"}
    assert core <= required, core - required


# ---------------------------------------------------------------- vocabulary

CLASSES = ["Report", "Document", "RequirementDocument", "Locality", "AdministrativeLevel", "BodyKind",
           "MechanismAssertion", "Status", "Quantity", "Obligation",
           "Requirement", "RequirementSet", "AuditRecord", "RoleKind", "OrganizationKind", "Sentence"]
OBJECT_PROPERTIES = ["locality", "parentLocality", "withinLocality", "level", "mechanism", "status",
                     "inDocument", "institutionKind", "namedOrganization", "quantityOf", "obligationMechanism",
                     "requiresMechanism", "inSet", "bindsLevel", "bindsBodyKind", "appliesTo", "issuedBy",
                     "auditOf", "auditRequirement", "complianceStatus", "evidence", "relatedMechanism",
                     "institutionType", "organ"]
DATATYPE_PROPERTIES = ["divisionCode", "text", "value", "unit", "qualifier", "subject", "count", "mentions",
                       "modality", "addressee", "deadline", "doctype", "year", "contentHash", "sourceFile",
                       "frequency", "candidateTerm", "evidenceLabel", "quote"]
INDIVIDUALS = {"NationLevel": KG.AdministrativeLevel, "ProvinceLevel": KG.AdministrativeLevel,
               "PrefectureLevel": KG.AdministrativeLevel, "CountyLevel": KG.AdministrativeLevel,
               "TownshipLevel": KG.AdministrativeLevel, "Implemented": KG.Status, "Planned": KG.Status,
               "Weakness": KG.Status, "Required": KG.Status, "Government": KG.BodyKind,
               "EnforcementDepartment": KG.BodyKind, "AnyBody": KG.BodyKind}


def test_vocabulary_declares_the_terms_the_code_uses(vocab):
    for name in CLASSES:
        assert (KG[name], RDF.type, OWL.Class) in vocab, name
    for name in OBJECT_PROPERTIES:
        assert (KG[name], RDF.type, OWL.ObjectProperty) in vocab, name
    for name in DATATYPE_PROPERTIES:
        assert (KG[name], RDF.type, OWL.DatatypeProperty) in vocab, name
    for name, cls in INDIVIDUALS.items():
        assert (KG[name], RDF.type, cls) in vocab, name
    assert (KG.withinLocality, RDF.type, OWL.TransitiveProperty) in vocab
    assert (KG.parentLocality, RDFS.subPropertyOf, KG.withinLocality) in vocab
    for status in ("Compliant", "NonCompliant", "PartiallyCompliant", "ComplianceUnknown"):
        assert (DPV[status], RDF.type, SKOS.Concept) in vocab, status


def test_status_notations_match_the_evaluation(vocab):
    notations = {str(vocab.value(s, SKOS.notation)) for s in vocab.subjects(RDF.type, KG.Status)}
    assert notations == {"implemented", "planned", "weakness", "required"}
    levels = {str(vocab.value(s, SKOS.notation)) for s in vocab.subjects(RDF.type, KG.AdministrativeLevel)}
    assert {"province", "prefecture", "county", "township"} <= levels


def keywords(g, concept):
    return set(zh(g, concept)) | set(zh(g, concept, SKOS.altLabel))


def test_cue_schemes(vocab):
    roles = {str(vocab.value(c, SKOS.notation)): c for c in vocab.subjects(SKOS.inScheme, KG.SectionRoleScheme)}
    assert set(roles) == {"achievements", "weaknesses", "duty_holder", "plans", "requirements", "other"}
    assert {"主要举措", "成效", "工作情况", "完成情况", "主要做法", "工作开展情况"} <= keywords(vocab, roles["achievements"])
    assert {"存在的不足", "存在问题", "短板", "差距", "不足和原因"} <= keywords(vocab, roles["weaknesses"])
    assert {"第一责任人", "履行推进法治建设第一责任人职责", "党政主要负责人履职"} <= keywords(vocab, roles["duty_holder"])
    assert {"下一步", "工作安排", "工作计划", "工作思路", "打算", "下一年度"} <= keywords(vocab, roles["plans"])
    assert {"主要任务", "工作要求", "保障措施", "总体要求", "工作任务"} <= keywords(vocab, roles["requirements"])
    priorities = [int(vocab.value(c, KG.priority)) for c in roles.values()]
    assert len(set(priorities)) == len(priorities)

    cue = lambda local: keywords(vocab, KG[local])
    assert {"没有", "无", "未发现", "未产生"} <= cue("cue-negation")
    assert {"尚未", "暂未", "未建立", "缺乏"} <= cue("cue-lack")
    assert {"拟", "将进一步", "争取", "力争", "探索建立"} <= cue("cue-hedge")
    # bare 将 / 推动 / 计划 mark done work far more often than plans (将…纳入, 推动完成, 行动计划)
    assert not {"将", "推动", "计划"} & cue("cue-hedge")
    assert {"下一步", "明年"} <= cue("cue-plan")
    assert {"弥补", "解决"} <= cue("cue-remedy")
    assert {"不足", "不够", "有待", "欠缺", "薄弱", "滞后", "不到位", "不规范", "不平衡", "短板", "差距"} <= cue("cue-weakness")
    assert {"要", "应当", "应", "须", "必须", "务必", "严格落实", "确保", "切实", "督促"} <= cue("cue-obligation-must")
    assert {"不得", "严禁", "禁止", "杜绝"} <= cue("cue-obligation-mustnot")
    assert {"每年第一季度", "年底前", "前完成", "月底前"} <= cue("cue-deadline")

    doctypes = {str(vocab.value(c, SKOS.notation)): c for c in vocab.subjects(SKOS.inScheme, KG.DoctypeScheme)}
    assert set(doctypes) == {"annual_report", "notice"}
    assert {"报告", "情况报告", "工作报告", "年度报告", "工作总结"} <= keywords(vocab, doctypes["annual_report"])
    assert {"通知", "意见", "方案", "实施方案", "纲要", "规划", "办法", "要点"} <= keywords(vocab, doctypes["notice"])


# ---------------------------------------------------------------- data shapes on sample graphs

SAMPLE = """
@prefix kg: <https://w3id.org/fazhi-kg/ontology#> .
@prefix kgm: <https://w3id.org/fazhi-kg/mechanism/> .
@prefix kgi: <https://w3id.org/fazhi-kg/institution/> .
@prefix kgr: <https://w3id.org/fazhi-kg/requirement/> .
@prefix dpv: <https://w3id.org/dpv#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix ex: <https://example.org/> .

ex:doc a kg:Report ; dcterms:title "乳山市综合行政执法局2024年法治政府建设情况报告" ;
    kg:sourceFile "000_2901c26b523a80cb.txt" ; kg:doctype "annual_report" ;
    kg:year 2024 ; kg:locality ex:rushan ; kg:organ ex:organ ; kg:candidateTerm "首违不罚清单"@zh .
ex:rushan a kg:Locality ; rdfs:label "乳山市" ; kg:divisionCode "371083" ; kg:level kg:CountyLevel ;
    kg:parentLocality ex:weihai .
ex:weihai a kg:Locality ; rdfs:label "威海市" ; kg:divisionCode "371000" ; kg:level kg:PrefectureLevel .
<https://example.org/doc#char=100,110> kg:text "我局外聘法律顾问1人" .
ex:a1 a kg:MechanismAssertion ; kg:mechanism kgm:M04 ; kg:status kg:Implemented ; kg:inDocument ex:doc ;
    kg:evidence <https://example.org/doc#char=100,110> .
<https://example.org/doc#figure=108,110> a kg:Quantity ; kg:value "1"^^xsd:decimal ; kg:unit "人" ;
    kg:quantityOf kgm:M04 ; kg:inDocument ex:doc ; kg:evidence <https://example.org/doc#char=100,110> .
ex:post1 a org:Post ; org:role kgi:I02 ; org:postIn ex:organ ; kg:mentions 1 ; kg:count "1"^^xsd:decimal ;
    kg:inDocument ex:doc ; kg:evidence <https://example.org/doc#char=100,110> .
ex:o1 a kg:Obligation ; kg:modality "must" ; kg:addressee "各执法单位" ; kg:deadline "每年第一季度" ;
    kg:inDocument ex:doc ; kg:evidence <https://example.org/doc#char=100,110> .
ex:audit a kg:AuditRecord ; kg:auditRequirement kgr:baseline-2021-M04 ; kg:auditOf ex:rushan ;
    kg:complianceStatus dpv:Compliant ; kg:evidence <https://example.org/doc#char=100,110> .
"""


def validate_sample(turtle: str, ontology: rdflib.Graph):
    # the ontology goes into the data graph itself: pySHACL's ont_graph copies only RDFS/OWL axioms,
    # not the skos:Concept typing that sh:class skos:Concept looks for
    data = rdflib.Graph().parse(data=turtle, format="turtle")
    for triple in ontology:
        data.add(triple)
    return pyshacl.validate(data, shacl_graph=load("shapes.ttl"))


def test_data_shapes_accept_a_well_formed_document_graph(ontology):
    conforms, _, text = validate_sample(SAMPLE, ontology)
    assert conforms, text


@pytest.mark.parametrize("old,new", [
    ('kg:mechanism kgm:M04 ; kg:status kg:Implemented', 'kg:mechanism kgi:I02 ; kg:status kg:Implemented'),  # not a mechanism
    ('kg:status kg:Implemented ; kg:inDocument ex:doc', 'kg:status kg:Done ; kg:inDocument ex:doc'),  # unknown status
    ('kg:divisionCode "371083"', 'kg:divisionCode "37108"'),              # 6 digits
    ('kg:value "1"^^xsd:decimal', 'kg:value "1"^^xsd:double'),            # decimal only
    ('kg:doctype "annual_report"', 'kg:doctype "report"'),
    ('kg:year 2024', 'kg:year 1900'),
    ('kg:modality "must"', 'kg:modality "should"'),
    ('kg:complianceStatus dpv:Compliant', 'kg:complianceStatus kg:Implemented'),
    ('kg:inDocument ex:doc ;\n    kg:evidence <https://example.org/doc#char=100,110> .\n<https://example.org/doc#figure',
     'kg:inDocument ex:doc .\n<https://example.org/doc#figure'),          # assertion without evidence
    ('<https://example.org/doc#char=100,110> kg:text', 'ex:s1 kg:text'),  # evidence must be a sentence with text
    ('<https://example.org/doc#figure=108,110> a kg:Quantity', 'ex:q1 a kg:Quantity'),  # a figure is named by its offsets
    ('kg:mentions 1 ;', ''),                                              # a post says how often it is named
    ('kg:sourceFile "000_2901c26b523a80cb.txt" ;', ''),
])
def test_data_shapes_reject_malformed_graphs(ontology, old, new):
    assert old in SAMPLE
    conforms, _, text = validate_sample(SAMPLE.replace(old, new, 1), ontology)
    assert not conforms, f"expected a violation after {old!r} -> {new!r}"


def test_no_machine_paths_in_ontology_files():
    for path in ONTOLOGY.glob("*.ttl"):
        text = path.read_text(encoding="utf-8")
        for marker in ("/work/", "/home/", "/tmp/", "C:\\"):
            assert marker not in text, (path.name, marker)
