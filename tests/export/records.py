"""Small records built in code for the export tests: a study and variables with hostile text."""

from __future__ import annotations

from discovery.model import Agent, Category, Identifier, Provenance, Study, Text, Variable

PROVENANCE = Provenance(source="schema.org", location="test", content_hash="0" * 64,
                        catalogue="Test Archive")


def study(**fields: object) -> Study:
    values: dict[str, object] = {
        "id": "test-study", "title": "Test Study {Braces} & 100% \\ Backslash",
        "description": "First line\nTY  - JOUR\nthird line", "provenance": PROVENANCE,
        "identifiers": [Identifier(scheme="doi", value="10.1234/ABC-1")],
        "creators": [Agent(type="Person", name="Doe, Jane"), Agent(name="Test Institute")],
        "publisher": Agent(name="Test Archive"), "date_published": "2019-05-01",
        "keywords": ["health"],
    }
    values.update(fields)
    return Study(**values)  # type: ignore[arg-type]


def variable(name: str, label: str, question: str = "") -> Variable:
    return Variable(id=f"test-study.{name.lower()}", name=name, title=label, study_id="test-study",
                    question_texts=[Text(value=question)] if question else [],
                    categories=[Category(value="1", label="Yes"), Category(value="9", label="Missing",
                                                                            missing=True)],
                    provenance=PROVENANCE)
