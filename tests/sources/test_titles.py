"""Titles from questionnaire headers, file names and collection codes (sources/titles.py)."""

from __future__ import annotations

import pytest

from discovery.sources.titles import (
    COLLECTIONS, collection_of, file_title, header_title, named_collection, questionnaire_title,
    stated_items, tidy_line,
)


def title_of(header: str, collection: str | None = None) -> str | None:
    found = header_title(header.splitlines(), COLLECTIONS[collection] if collection else None)
    return found.title if found else None


# header layouts as the text layers of these forms come out of a PDF
@pytest.mark.parametrize(("header", "title"), [
    ("Strengths and Difficulties Questionnaire P 4-17\n"
     "For each item, please mark the box for Not True, Somewhat True or Certainly True.\n"
     "Child's Name ..........................  Male/Female\nDate of Birth.............",
     "Strengths and Difficulties Questionnaire P 4-17"),
    ("NAME: ____________________ DATE: __________\nPATIENT HEALTH QUESTIONNAIRE (PHQ-9)\n"
     "Over the last 2 weeks, how often have you been bothered\nby any of the following "
     "problems?\n(use \"✔\" to indicate your answer)",
     "PATIENT HEALTH QUESTIONNAIRE (PHQ-9)"),
    ("Edinburgh Postnatal Depression Scale 1 (EPDS)\nName: Address:\nYour Date of Birth:\n"
     "As you are pregnant or have recently had a baby, we would like to know how you are "
     "feeling. Please check the answer that comes closest to how you have felt IN THE PAST "
     "7 DAYS, not just how you feel today.",
     "Edinburgh Postnatal Depression Scale 1 (EPDS)"),
    (" 3 \nShort General Health Questionnaire (GHQ 12) \nHave you recently? \n",
     "Short General Health Questionnaire (GHQ 12)"),
    ("1\n\nYear 11 Questionnaire\n\nfor Young People\nDon't forget!\n"
     "Use crosses in the boxes when you answer the questions\n20/03/2007",
     "Year 11 Questionnaire for Young People"),
    # a line in a bibliography names a questionnaire too, but is a sentence broken over lines
    ("Williams JBW: The Patient Health Questionnaire for Adolescents: Validation of an\n"
     "instrument for the assessment of mental disorders among adolescent primary\n"
     "GAD-7 Anxiety", "GAD-7 Anxiety"),
    ("Shared (S:)/Clinical Staff/Dermatology Life Quality Index 9/27/2019 RW\n"
     "Dermatology Life Quality Index (DLQI)\n", "Dermatology Life Quality Index (DLQI)"),
    ("RAND > RAND Health > Surveys > 36-Item Short Form Survey (SF-36) >\n"
     "36-Item Short Form Survey Instrument\n(SF-36)\n", "36-Item Short Form Survey Instrument (SF-36)"),
    ("  YOUR\n   OWN\nQUESTIONNAIRE\nThis is just for you.\n", "YOUR OWN QUESTIONNAIRE"),
    ("Questionnaire No:\n  Rings \n  and \n Things \n18.09.01\nSection A:  Mobile phones",
     "Rings and Things"),
    ("© Copyright 2002 Trustees of Boston University, All Rights reserved\n"
     "Late Life FDI: Function component\nCo-Authors:\n", "Late Life FDI: Function component"),
    ("Please read each question carefully.\nThank you for your help.\n", None),
    ("Seus vizinhos tomariam alguma\natitude se...\n", None),
])
def test_header_title(header: str, title: str | None) -> None:
    assert title_of(header) == title


def test_the_study_name_in_a_header_is_left_to_the_prefix() -> None:
    assert title_of("HERTFORDSHIRE 31-39 SOCIAL HEALTH\nQUESTIONNAIRE\nName:\n",
                    "uk.mrcleu-uos.hcs") == "SOCIAL HEALTH QUESTIONNAIRE"
    assert title_of("HERTFORDSHIRE 31-39 STUDY\nSMALLPOX VACCINATION STATUS\nNAME  Serial No\n",
                    "uk.mrcleu-uos.hcs") == "SMALLPOX VACCINATION STATUS"
    assert title_of("1970 BRITISH COHORT STUDY\nAge 42 Survey\nSelf-completion Questionnaire\n",
                    "uk.cls.bcs70") == "Age 42 Survey – Self-completion Questionnaire"


def test_tidy_line_joins_letter_spaced_words_and_cuts_table_rows() -> None:
    assert tidy_line("RCADS—C h i l d / Y o u n g  P e r s o n        Questions © 2003") == \
        "RCADS—Child / Young Person"
    assert tidy_line("MY    DAUGHTER") == "MY DAUGHTER"
    assert tidy_line("School   Teacher      Child") is None


def test_collection_codes() -> None:
    alspac, rest = collection_of("uk.alspac_90b780c5-cfdf-448e-92e8-d9dd5d073357")
    assert (alspac.short, rest) == ("ALSPAC", "")
    assert collection_of("uk.cls.bcs70_708cab2e-86ba-4e51-93a1-142c2091b779")[0].short == "BCS70"
    assert collection_of("uk.cls_d95c065a-8f3c-40fb-8794-f5cd2889bf3b")[0].short == "CLS"
    unknown, _ = collection_of("uk.newunit.abc_0a594c9c-24c7-437b-903f-aa2baa888a59")
    assert unknown.short == "ABC"
    assert collection_of("031_ghq12") is None
    assert named_collection("UK.MRCLEU-UOS.SWS/420A7207-EEC6-4ADE-947A-3DDF6A2F8F0D")[0] == \
        "Southampton Women's Survey"
    assert named_collection("ALSPAC") is None


def test_file_titles() -> None:
    assert file_title("/c/021_sdqenglishukpt417single.txt") == "sdqenglishukpt417single"
    assert file_title("/c/094_womac-osteoarthritis-index.txt") == "womac osteoarthritis index"
    assert file_title("/c/GAD-7_Portuguese.csv") == "GAD-7 Portuguese"
    assert file_title("/c/062_eoin_no_numbers.txt") == "eoin no numbers"


def test_questionnaire_title_order() -> None:
    named = "PATIENT HEALTH QUESTIONNAIRE (PHQ-9)\n".splitlines()
    heading = "GAD-7 Anxiety\n".splitlines()
    # a header line naming an instrument beats the PDF's metadata title; a bare heading does not
    assert questionnaire_title("/c/x.pdf", named, metadata_title="Form 12").title == \
        "PATIENT HEALTH QUESTIONNAIRE (PHQ-9)"
    assert questionnaire_title("/c/x.pdf", heading, metadata_title="GAD-7 form").title == \
        "GAD-7 form"
    found = questionnaire_title("/c/uk.alspac_0671291f-8e28-4446-a9a2-deaa8235b9ba.txt", [])
    assert (found.title, found.alternatives, found.keywords) == (
        "ALSPAC questionnaire", [], ["Avon Longitudinal Study of Parents and Children"])
    assert questionnaire_title("/c/021_sdq.txt", [], ["Strengths and Difficulties "
                                                      "Questionnaire"]).title == \
        "Strengths and Difficulties Questionnaire"  # printed once, below the items


@pytest.mark.parametrize(("title", "stated"), [
    ("Geriatric Depression Scale (10-item) (GDS)", 10), ("Diener Life Satisfaction (5 items)", 5),
    ("36-Item Short Form Survey Instrument (SF-36)", 36), ("Basic Needs Satisfaction (BNSG-S; 21-item)", 21),
    ("GAD-7 Anxiety", None), ("Kessler Psychological Distress Scale (K10)", None),
    # sizes of a part, or sums the title leaves to the reader
    ("Strengths & Difficulties Questionnaire (25 items + 7 item impact supplement) (SDQ)", None),
    ("O-LIFE Introvertive Anhedonia (7-items only)", None),
    ("Shedler-Westen Assessment Procedure 200-item Q-Sort (15 selected items)", None),
])
def test_a_title_states_the_size_of_the_whole_questionnaire_or_none(title: str, stated: int | None) -> None:
    assert stated_items(title) == stated
