"""Before launch: intent, criteria, ports, checks, massgen's argv; a typed request in, a checked plan out."""
