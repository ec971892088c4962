"""The grammar and outline word lists the extraction steps read from ontology/kg.ttl: every
list the code names is there, and the words come longest first, so that an alternation of them
prefers the longer of two words that start alike."""
import re

import pytest

from kg import lexicon

GRAMMAR = ["function_word", "name_intro", "not_a_name", "subject_lead", "addressee_body",
           "addressee_qualifier", "body_suffix", "directed_body", "directive", "deadline", "recurrence"]
OUTLINE = ["organ_division", "organ_body", "organ_line_end", "title_trailer", "reporter",
           "full_name_end", "self_suffix"]


@pytest.mark.parametrize("scheme, notation", [("GrammarCueScheme", n) for n in GRAMMAR]
                         + [("OutlineCueScheme", n) for n in OUTLINE])
def test_every_list_the_code_reads_is_there_longest_first(scheme, notation):
    words = lexicon.grammar_words(notation, scheme)
    assert words and len(set(words)) == len(words)
    assert [len(w) for w in words] == sorted((len(w) for w in words), reverse=True)


def test_an_alternation_prefers_the_longer_word():
    assert re.match(lexicon.grammar_alternation("subject_lead"), "共计办理").group(0) == "共计"
    assert re.match(lexicon.grammar_alternation("directed_body"), "乡镇").group(0) == "乡镇"
    assert re.match(lexicon.outline_alternation("organ_body"), "委员会").group(0) == "委员会"
    assert re.fullmatch(lexicon.grammar_alternation("addressee_body"), "乡(镇)")


def test_a_missing_list_is_a_clear_error():
    from kg.resources import MissingData
    with pytest.raises(MissingData):
        lexicon.grammar_words("no_such_list")
