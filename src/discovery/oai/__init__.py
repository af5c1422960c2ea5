"""Being harvested: an OAI-PMH 2.0 provider over the catalogue.

`ledger.py` keeps which studies and datasets the provider serves, in the order they last changed,
read from the catalogue's history; `tokens.py` packs a list's place into a resumption token;
`provider.py` answers the six verbs and every error. The API mounts it at /oai.
"""
