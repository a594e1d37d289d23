"""The seqkeras course as a whole: syllabus, the course command, data provenance."""
