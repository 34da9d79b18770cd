"""fibsims.data"""
