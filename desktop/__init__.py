"""CodeFormer Studio's Qt window. Everything that imports Qt lives here."""
