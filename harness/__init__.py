"""What tests and benchmarks share: launching the app, a browser, images they make.

tests/ and bench/ never import each other; both import this package (ARCHITECTURE.md).
"""
