"""The Ray adapter: starting or joining Ray, the study as a Tune searcher, the trainable, what
the driver does while trials run (progress, failure limit, Ctrl-C, dashboard artifacts), and
the race's and `evaluate`'s trainings on Ray actors. The only package of AugSearch that imports Ray."""
