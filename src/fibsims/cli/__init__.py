"""fibsims.cli"""
