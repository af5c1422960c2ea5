"""Harmonising questionnaire items across instruments, studies and languages.

items -> matcher (similarity with polarity) -> crosswalk (best matches, clusters, exports);
build makes the product's matcher for a data folder; pairs scores any table of item pairs;
measured asks the catalogue which studies measured a question.
"""
