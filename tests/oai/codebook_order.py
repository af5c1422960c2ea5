"""What can be checked of DDI Codebook 2.5 without its schema: every element we write is one the
2.5 specification allows under its parent, in the order its sequence requires.

The orders below are those of the DDI 2.5 field-level documentation (codeBookType, stdyDscrType,
citationType, ...), written down for the elements `export/ddi_codebook.py` writes; an element
missing from its parent's list fails, so the writer cannot start emitting something unchecked.
"""

from __future__ import annotations

from lxml import etree

NS = "ddi:codebook:2_5"
ORDER = {
    "codeBook": ["docDscr", "stdyDscr", "fileDscr", "dataDscr", "otherMat"],
    "stdyDscr": ["citation", "guide", "stdyInfo", "studyDevelopment", "method", "dataAccs",
                 "othrStdyMat", "notes"],
    "citation": ["titlStmt", "rspStmt", "prodStmt", "distStmt", "serStmt", "verStmt", "biblCit",
                 "holdings", "notes"],
    "titlStmt": ["titl", "subTitl", "altTitl", "parTitl", "IDNo"],
    "rspStmt": ["AuthEnty", "othId"],
    "prodStmt": ["producer", "copyright", "prodDate", "prodPlac", "software", "fundAg", "grantNo"],
    "distStmt": ["distrbtr", "contact", "depositr", "depDate", "distDate"],
    "verStmt": ["version", "verResp", "notes"],
    "stdyInfo": ["studyBudget", "subject", "abstract", "sumDscr", "qualityStatement", "notes",
                 "exPostEvaluation"],
    "subject": ["keyword", "topcClas"],
    "sumDscr": ["timePrd", "collDate", "nation", "geogCover", "geogUnit", "geoBndBox", "boundPoly",
                "anlyUnit", "universe", "dataKind"],
    "method": ["dataColl", "notes", "anlyInfo", "stdyClas", "dataProcessing", "codingInstructions"],
    "dataColl": ["timeMeth", "dataCollector", "collectorTraining", "frequenc", "sampProc",
                 "sampleFrame", "targetSampleSize", "deviat", "collMode", "resInstru"],
    "dataAccs": ["setAvail", "useStmt", "notes"],
    "useStmt": ["confDec", "specPerm", "restrctn", "contact", "citReq", "deposReq", "conditions",
                "disclaimer"],
    "fileDscr": ["fileTxt", "locMap", "notes"],
    "fileTxt": ["fileName", "fileCitation", "dataFingerprint", "fileCont", "fileStrc", "dimensns",
                "fileType", "format"],
    "dimensns": ["caseQnty", "varQnty", "logRecL", "recPrCas", "recNumTot"],
    "dataDscr": ["varGrp", "nCubeGrp", "var", "nCube", "notes"],
    "var": ["location", "labl", "imputation", "security", "embargo", "respUnit", "anlysUnit", "qstn",
            "valrng", "invalrng", "undocCod", "universe", "TotlResp", "sumStat", "txt", "stdCatgry",
            "catgryGrp", "catgry", "codInstr", "verStmt", "concept", "derivation", "varFormat",
            "geomap", "catLevel", "notes"],
    "qstn": None,  # mixed content: preQTxt, qstnLit, postQTxt, ivuInstr in any order
    "catgry": ["catValu", "labl", "txt", "catStat", "mrow"],
}
QUESTION_PARTS = {"preQTxt", "qstnLit", "postQTxt", "forward", "backward", "ivuInstr"}
# leaves: text only
TEXT = {"titl", "subTitl", "altTitl", "parTitl", "IDNo", "AuthEnty", "fundAg", "grantNo", "distrbtr",
        "distDate", "version", "holdings", "keyword", "topcClas", "abstract", "timePrd", "geogCover",
        "anlyUnit", "universe", "dataKind", "timeMeth", "sampProc", "collMode", "resInstru",
        "conditions", "caseQnty", "fileType", "labl", "sumStat", "txt", "concept", "varFormat",
        "catValu", "catStat", *QUESTION_PARTS}


def problems(root: etree._Element) -> list[str]:
    """Where `root` (a codeBook) departs from DDI 2.5's element order; empty when it does not."""
    found = []
    for element in root.iter(etree.Element):
        name = etree.QName(element)
        if name.namespace != NS:
            found.append(f"{name.text}: not in the DDI 2.5 namespace")
            continue
        children = [etree.QName(child).localname for child in element if isinstance(child.tag, str)]
        if name.localname in TEXT:
            if children:
                found.append(f"{name.localname} holds elements {children}")
            continue
        if name.localname not in ORDER:
            found.append(f"{name.localname}: not an element this check knows")
            continue
        order = ORDER[name.localname]
        if order is None:
            found += [f"qstn holds {child}" for child in children if child not in QUESTION_PARTS]
            continue
        positions = []
        for child in children:
            if child not in order:
                found.append(f"{name.localname} may not hold {child}")
            else:
                positions.append(order.index(child))
        if positions != sorted(positions):
            found.append(f"{name.localname}: children out of order {children}")
    return found
