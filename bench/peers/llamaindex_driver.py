"""LlamaIndex's ConfluenceReader over every space of the fake (run by the peers' venv, not the project's).

Basic auth (e-mail + API token) with the Atlassian client's retries on (``backoff_and_retry``), all
results of each space (``max_num_results=None``). Prints one JSON line: documents, characters, seconds.
"""

from __future__ import annotations

import json
import sys
import time


def main() -> int:
    config = json.loads(sys.argv[1])
    from llama_index.readers.confluence import ConfluenceReader  # type: ignore[import-not-found]  # the peers' venv only

    started = time.perf_counter()
    reader = ConfluenceReader(
        base_url=config["url"],
        user_name=config["email"],
        password=config["token"],
        client_args={"backoff_and_retry": True},
    )
    keys = [space["key"] for space in reader.confluence.get_all_spaces(start=0, limit=500)["results"]]
    documents = characters = 0
    for key in keys:
        for document in reader.load_data(space_key=key, max_num_results=10_000_000):
            documents += 1
            characters += len(document.text)
    seconds = time.perf_counter() - started
    print(json.dumps({"documents": documents, "characters": characters, "seconds": seconds, "spaces": len(keys)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
