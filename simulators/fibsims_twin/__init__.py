"""fibsims_twin: the physics-backed digital twin of a Xe+ PFIB with a ToF-SIMS spectrometer."""
