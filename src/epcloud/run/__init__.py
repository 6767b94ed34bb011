"""One run: preparing it, launching the engine, recording its status."""
