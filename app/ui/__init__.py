"""The PySide6 desktop interface. No business rule lives here: each action calls one
service function and shows its result."""
