"""fibsims.engine"""
