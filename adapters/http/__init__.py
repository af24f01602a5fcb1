"""The HTTP Chat API: the bridge's characters for any app (JSON and Server-Sent Events over aiohttp)."""
