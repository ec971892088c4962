"""The ontology of kg as Turtle files, installed inside the package as kg.ontology_files
(see kg/resources.py); nothing here is Python but this line."""
