"""A video summary from a local clip (examples/assets/clip.mp4, 2 s, 4 KB).

Shows: uploading a video once through the Files API (`purpose="video"`) and asking kimi-k2.6
about it with a standard LangChain `video` block referencing the file id (sent as
`ms://<file id>`); small clips can also go inline as base64 (shown second).

Against the real API:

    export MOONSHOT_API_KEY=sk-...
    uv run --group examples python examples/video_summary.py [path/to/clip.mp4]

Without a key it runs against an embedded kimi-emulator, which checks the video part but does not
watch the clip (its answer echoes the question).
"""

from __future__ import annotations

import base64
import sys
from pathlib import Path

from _kimi_endpoint import kimi_endpoint

CLIP = Path(__file__).parent / "assets" / "clip.mp4"


def main() -> None:
    clip = Path(sys.argv[1]) if len(sys.argv) > 1 else CLIP
    data = clip.read_bytes()
    with kimi_endpoint():
        from langchain_core.messages import HumanMessage
        from langchain_kimi import ChatKimi

        model = ChatKimi(model="kimi-k2.6")
        uploaded = model.client.files.upload(data, purpose="video", filename=clip.name)
        print(f"Uploaded {clip.name} ({len(data)} bytes) as {uploaded.url}")
        question = "Summarise this clip in two sentences: what is shown and what moves?"
        by_reference = HumanMessage(
            content_blocks=[
                {"type": "text", "text": question},
                {"type": "video", "file_id": uploaded.id},
            ]
        )
        print("Summary:", model.invoke([by_reference]).text)
        inline = HumanMessage(
            content_blocks=[
                {"type": "text", "text": "In one sentence, what colours dominate this clip?"},
                {
                    "type": "video",
                    "base64": base64.b64encode(data).decode(),
                    "mime_type": "video/mp4",
                },
            ]
        )
        print("Colours:", model.invoke([inline]).text)
        model.client.files.delete(uploaded.id)


if __name__ == "__main__":
    main()
