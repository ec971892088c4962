"""The named SPARQL queries of kg, installed inside the package as kg.query_files
(see kg/resources.py); nothing here is Python but this line."""
