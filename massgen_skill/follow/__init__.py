"""After launch: results, status, review watching, file waits and steering of a recorded run."""
