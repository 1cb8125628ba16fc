"""LangChain's ConfluenceLoader over every space of the fake (run by the peers' venv, not the project's).

Configured as a user would for "load everything": ``max_pages`` raised so nothing is cut off, everything
else at its defaults (``limit=50``, the per-page restriction check ``include_restricted_content=False``,
3 retries). Prints one JSON line: documents, characters, seconds.
"""

from __future__ import annotations

import json
import sys
import time


def main() -> int:
    config = json.loads(sys.argv[1])
    from langchain_community.document_loaders import ConfluenceLoader  # type: ignore[import-not-found]  # the peers' venv only

    started = time.perf_counter()
    spaces_client = ConfluenceLoader(
        url=config["url"], username=config["email"], api_key=config["token"], space_key="-"
    ).confluence
    keys = [space["key"] for space in spaces_client.get_all_spaces(start=0, limit=500)["results"]]
    documents = characters = 0
    for key in keys:
        loader = ConfluenceLoader(
            url=config["url"],
            username=config["email"],
            api_key=config["token"],
            space_key=key,
            max_pages=10_000_000,
        )
        for document in loader.lazy_load():
            documents += 1
            characters += len(document.page_content)
    seconds = time.perf_counter() - started
    print(json.dumps({"documents": documents, "characters": characters, "seconds": seconds, "spaces": len(keys)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
