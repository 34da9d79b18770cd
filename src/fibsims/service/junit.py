"""JUnit XML of a ``fibsims check``: the report format every CI server shows as tests.

One ``testsuite`` per recipe, one ``testcase`` per phase (validate, preflight, estimate,
twin_pass); a failed phase is a ``failure`` with its messages, a skipped one ``skipped``, and
preflight warnings go to the testcase's ``system-out``. Written atomically, so a CI step that
reads it never sees half a file.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from fibsims.data.atomic import write_atomic
from fibsims.service.recipe_check import RecipeCheck


def junit_xml(results: list[RecipeCheck]) -> bytes:
    suites = ET.Element("testsuites", name="fibsims check")
    for result in results:
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=str(result.path),
            tests=str(len(result.phases)),
            failures=str(sum(p.status == "failed" for p in result.phases)),
            skipped=str(sum(p.status == "skipped" for p in result.phases)),
            time=f"{sum(p.seconds for p in result.phases):.3f}",
        )
        for phase in result.phases:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=str(result.path),
                name=phase.name,
                time=f"{phase.seconds:.3f}",
            )
            text = "\n".join(phase.messages)
            if phase.status == "failed":
                failure = ET.SubElement(
                    case, "failure", message=phase.messages[0] if phase.messages else "failed"
                )
                failure.text = text
            elif phase.status == "skipped":
                ET.SubElement(case, "skipped", message=text)
            elif text:
                ET.SubElement(case, "system-out").text = text
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True)


def write_junit(results: list[RecipeCheck], path: Path) -> None:
    data = junit_xml(results)
    write_atomic(path, lambda temporary: temporary.write_bytes(data))
