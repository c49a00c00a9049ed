"""The plan's monthly drills: scenarios as data files, run on the simulation, scored."""
