"""Small helpers with no like-keras knowledge: files written atomically, import paths, a progress bar."""
