"""What the index keeps of a record: fields, facets, ranges and the text it embeds."""

from __future__ import annotations

from discovery.catalogue.protocol import StoredRecord
from discovery.index.documents import EMBED_CHARS, index_document

STUDY = {
    "id": "s", "kind": "study", "title": "Health of Older People 2010",
    "titles": [{"value": "Health of Older People 2010"}, {"value": "Gesundheit im Alter", "lang": "de"}],
    "description": "A survey of people aged 65 and over. " * 100, "keywords": ["Ageing", "HEALTH"],
    "topics": ["Health"], "spatial_coverage": ["GB", "Scotland"], "language": ["eng", "de-DE"],
    "temporal_coverage": "2010-03-01/2011-02-28", "age_coverage": "65+", "sample_size": 2400,
    "study_design": ["Cross-section"], "resource_type": "Numeric",
    "funders": [{"name": "ESRC", "role": "funder"}, {"name": "Big Bank", "role": "sponsor"}],
    "identifiers": [{"scheme": "ukds", "value": "SN1234"}], "variable_count": 3,
}


def test_a_study_has_its_texts_by_field_and_its_items_as_contents():
    doc = index_document(StoredRecord("s", "study", None, STUDY, ["ddi-codebook-2.5"], ["UK Data Service"]),
                         [("variable", "How is your health?"), ("variable", "Do you feel lonely?")])
    assert doc.fields["title"] == "Health of Older People 2010\nGesundheit im Alter"
    assert doc.fields["keywords"] == "Ageing\nHEALTH\nHealth"
    assert "SN1234" in doc.fields["names"] and "ESRC" in doc.fields["names"]
    assert doc.fields["contents"] == "How is your health?\nDo you feel lonely?"
    # keywords before the description: a long boilerplate description cannot push them out
    assert doc.embed_text.startswith("Health of Older People 2010 \nAgeing, HEALTH, Health \nA survey")
    assert len(doc.embed_text) <= EMBED_CHARS


def test_facets_are_normalised_so_one_filter_finds_every_spelling():
    doc = index_document(StoredRecord("s", "study", None, STUDY, ["ddi-codebook-2.5"], ["UK Data Service"]))
    assert doc.facets["country"] == ["United Kingdom", "Scotland"]  # the nation kept beneath
    assert doc.facets["language"] == ["en", "de"]
    assert doc.facets["topic"] == ["health", "ageing"]
    assert doc.facets["funder"] == ["ESRC"]  # sponsors only when no funder is named
    assert doc.facets["catalogue"] == ["UK Data Service"]
    assert doc.facets["design"] == ["Cross-section"] and doc.facets["resource_type"] == ["Numeric"]


def test_ranges_read_years_ages_sizes_and_the_larger_variable_count():
    doc = index_document(StoredRecord("s", "study", None, STUDY), [("variable", t) for t in "abcd"])
    assert doc.ranges == {"year_start": 2010, "year_end": 2011, "age_min": 65, "age_max": 120,
                          "sample_size": 2400, "variables": 4}
    assert doc.display["items"] == 4
    stated = index_document(StoredRecord("s", "study", None, STUDY))  # states 3, lists none
    assert stated.ranges["variables"] == 3 and stated.display["items"] == 0


def test_a_questionnaire_counts_the_questions_its_page_lists_not_the_variables_recorded_from_it():
    children = [("question", "Q1"), ("variable", "v1"), ("question", "Q2"), ("variable", "v2"),
                ("variable", "v3")]
    doc = index_document(StoredRecord("i", "instrument", None, {"title": "EHIS"}), children)
    assert doc.display["items"] == 2 and doc.ranges["variables"] == 2
    assert doc.fields["contents"] == "Q1\nv1\nQ2\nv2\nv3"  # found by all it holds


def test_a_variable_keeps_its_question_categories_and_name_but_not_a_repeated_label():
    variable = {"id": "s.q1", "kind": "variable", "title": "Feeling lonely", "name": "Q1",
                "study_id": "s", "question_texts": [{"value": "Feeling lonely"}],
                "categories": [{"label": "Never"}, {"label": "Often"}, {"label": "Refused", "missing": True}]}
    doc = index_document(StoredRecord("s.q1", "variable", "s", variable))
    assert doc.parent == "s"
    assert "question" not in doc.fields
    assert doc.fields["categories"] == "Never\nOften"
    assert doc.fields["names"] == "Q1"
    assert doc.embed_text == "Feeling lonely \nNever / Often"


def test_a_question_is_searched_by_its_text():
    question = {"id": "i.1", "kind": "question", "title": "Trouble relaxing", "instrument_id": "i",
                "options": [{"label": "Not at all"}]}
    doc = index_document(StoredRecord("i.1", "question", "i", question))
    assert doc.fields["question"] == "Trouble relaxing" and "title" not in doc.fields
    assert doc.embed_text.startswith("Trouble relaxing")


def test_places_that_name_no_country_are_kept_on_the_record_but_not_as_countries():
    data = {**STUDY, "spatial_coverage": ["Municipality of Milano", "Italy", "Suisse (CH)", "Global"]}
    doc = index_document(StoredRecord("s", "study", None, data))
    assert doc.facets["country"] == ["Italy", "Switzerland"]
    # what a hit shows: the ISO names where known, the source's words where not
    assert doc.display["countries"] == ["Municipality of Milano", "Italy", "Switzerland", "Global"]


def test_a_catalogue_is_inferred_only_where_the_sources_state_none():
    stated = index_document(StoredRecord("s", "study", None, STUDY, [], ["GESIS"]))
    assert stated.facets["catalogue"] == ["GESIS"]
    inferred = index_document(StoredRecord("s", "study", None, STUDY))
    assert inferred.facets["catalogue"] == ["UK Data Service"]  # from its ukds study number


def test_an_instrument_is_faceted_by_the_questionnaire_it_is_a_version_of():
    gad = {"id": "g", "kind": "instrument", "title": "Generalised Anxiety Disorder (7-item) (GAD-7)"}
    assert index_document(StoredRecord("g", "instrument", None, gad)).facets["questionnaire"] == ["GAD-7"]
    listed = index_document(StoredRecord("s", "study", None, {**STUDY, "instruments": [
        "General Health Questionnaire (GHQ-12)"]}))
    assert listed.facets["questionnaire"] == ["GHQ-12"]
