"""`tote picker`: the handheld picking terminal."""
