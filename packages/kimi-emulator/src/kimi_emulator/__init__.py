"""kimi-emulator: an offline, protocol-faithful Moonshot Kimi API server."""

from kimi_emulator.app import SIZE_HEADER
from kimi_emulator.config import EmulatorConfig
from kimi_emulator.script import FAULT_HEADER, Fault, Reply, ScriptedToolCall
from kimi_emulator.server import KimiEmulator
from kimi_emulator.state import RecordedRequest

__all__ = [
    "FAULT_HEADER",
    "SIZE_HEADER",
    "EmulatorConfig",
    "Fault",
    "KimiEmulator",
    "RecordedRequest",
    "Reply",
    "ScriptedToolCall",
]
