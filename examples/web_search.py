"""A web-search answer with its sources, using Kimi's builtin `$web_search`.

Shows: `ChatKimi.bind_tools([{"type": "web_search"}])`; the search echo loop runs inside the call,
each search round is listed in `response_metadata["web_searches"]` (with the search tokens it
cost), and the answer cites the pages it used. The URLs cited in the answer are printed as the
sources.

Against the real API:

    export MOONSHOT_API_KEY=sk-...
    uv run --group examples python examples/web_search.py

Without a key it runs against an embedded kimi-emulator, whose search engine is a small built-in
corpus.
"""

from __future__ import annotations

import re

from _kimi_endpoint import kimi_endpoint

URL = re.compile(r"https?://[^\s)\]>]+")


def main() -> None:
    with kimi_endpoint():
        from langchain_kimi import ChatKimi

        model = ChatKimi(model="kimi-k2.6").bind_tools([{"type": "web_search"}])
        answer = model.invoke(
            "Search the web: how tall is the Eiffel Tower, and when was it completed? "
            "Cite the pages you used as URLs."
        )
        print(answer.text)
        searches = answer.response_metadata.get("web_searches", [])
        print(
            f"\n{len(searches)} search round(s), {sum(s['search_tokens'] for s in searches)} tokens"
        )
        print("Sources:")
        for url in dict.fromkeys(URL.findall(answer.text)):
            print(f"- {url}")
        print(f"Usage: {answer.usage_metadata}")


if __name__ == "__main__":
    main()
