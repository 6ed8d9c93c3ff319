"""Payment providers behind one interface; the built-in one is the test-mode sandbox."""
