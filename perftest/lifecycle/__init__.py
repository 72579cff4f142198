"""One run's lifecycle, from the plan to clean-up: the only layer that joins the measuring
core to storage and analysis.

``runner`` runs a measured run (begin → seed → sample → measure → save → analyse → clean
up, whatever ends it); ``check`` serves ``--check`` (seed, log in, send each endpoint once,
measure nothing); ``seeding`` creates and removes perftest's identities and sample data;
``seeder_output`` reads what a seeder returns.
"""
