"""Real-time delivery: WebSocket consumers and events published from actions after commit."""
